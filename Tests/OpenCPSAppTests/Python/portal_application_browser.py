"""The professional's portal pages in a real browser: Debian's headless Chromium with Selenium.

Usage: portal_application_browser.py BASE OPENCPS WORK IDNAT SERIAL AGENT SHOTS

BASE is `opencps serve --demo`'s base URL, OPENCPS the executable (its `ecps` commands are the
professional's phone), WORK a folder for the devices and the documents, IDNAT and SERIAL a demo
professional of a non-ordinal profession with an active CPS, AGENT the idNat of the demo's
agent of the regional agency competent for them, SHOTS the folder that receives the screenshots.

The professional logs in with e-CPS; reaches every action of the space with the keyboard alone
(a skip link first, a visible focus, the tab order the page's order); enrols a second device
from the portal's QR page with the text payload and `opencps ecps enrol`; changes the postal
address (an error first, tied to its field); declares the card lost and completes the
replacement's file: a refused text file, then PDFs uploaded in the browser, submitted. The
agency's agent, logged in with e-CPS in a second browser, goes from their space to the staff
space and the queue, and rejects the file with a reason; the professional sees the reason,
adds a document, resubmits; the agent validates; the professional's page says so. No step of
that journey goes through the JSON API. axe-core: no serious or critical violation on any
page. Exits non-zero on the first failure.
"""

import os
import subprocess
import sys

import requests
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

import browser_pages
from browser_pages import FOCUSABLE, PIN, arrive, check, click_and_wait, new_browser

BASE, OPENCPS, WORK, IDNAT, SERIAL, AGENT, SHOTS = sys.argv[1:8]


def audit(driver, name, shoot=True):
    """Title, lang, labels, the skip link first, axe-core; then the screenshots."""
    browser_pages.audit(driver, name, SHOTS, shoot, skip_link=True)


def ecps(device, *arguments):
    result = subprocess.run([OPENCPS, "ecps", *arguments, "--device-dir", os.path.join(WORK, device)], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


def keyboard_tour(driver):
    """Tabs through the page from its top: every link, button and field is reached, in the
    page's order, each with a visible focus; the skip link, activated, leads into <main>."""
    count = driver.execute_script(f"return document.querySelectorAll({FOCUSABLE!r}).length")
    driver.execute_script("document.activeElement && document.activeElement.blur(); window.scrollTo(0, 0)")
    reached = []
    for _ in range(count + 2):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        index, outline = driver.execute_script(
            f"const e = document.activeElement; const s = getComputedStyle(e);"
            f"return [Array.from(document.querySelectorAll({FOCUSABLE!r})).indexOf(e), s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0]")
        if index < 0 or (reached and index == reached[0][0]):
            break
        reached.append((index, outline))
    order = [index for index, _ in reached]
    check(order == list(range(count)), f"the keyboard reaches the {count} actions of the space in the page's order ({order})")
    check(all(outline for _, outline in reached), "every focused action shows a visible outline")
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    ActionChains(driver).send_keys(Keys.TAB).send_keys(Keys.ENTER).perform()
    WebDriverWait(driver, 5).until(lambda d: d.current_url.endswith("#contenu"))
    ActionChains(driver).send_keys(Keys.TAB).perform()
    inside = driver.execute_script("return document.getElementById('contenu').contains(document.activeElement)")
    check(inside, "the skip link, activated with Enter, takes the next Tab into the main content")


def api(method, path, token, body=None):
    answer = requests.request(method, f"{BASE}{path}", headers={"Authorization": f"Bearer {token}"}, json=body, timeout=10)
    return answer.status_code, answer.json() if answer.content else {}


def document(name, content):
    path = os.path.join(WORK, name)
    with open(path, "wb") as out:
        out.write(content)
    return path


PDF = b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


def enrol(idnat, device):
    """The person's phone, enrolled from the QR payload of their card session."""
    status, answer = api("POST", "/api/v1/ecps/enrolments", f"demo-holder-{idnat}")
    check(status == 201, f"{device}: the card session gives a QR payload ({status})")
    status, output = ecps(device, "enrol", "--payload", answer["payload"], "--pin", PIN, "--label", "Téléphone")
    check(status == 0, f"{device}: opencps ecps enrol: {output.strip()}")


def log_in(browser, idnat, device):
    """Logs in on the portal with e-CPS, approved on the person's phone."""
    browser.get(f"{BASE}/portail/connexion")
    arrive(browser, "Connexion")
    browser.find_element(By.ID, "idNat").send_keys(idnat)
    browser.find_element(By.XPATH, "//button[contains(., 'Se connecter avec e-CPS')]").click()
    arrive(browser, "En attente")
    request_id = browser.find_element(By.CSS_SELECTOR, "input[name='request']").get_attribute("value")
    status, output = ecps(device, "approve", request_id, "--pin", PIN)
    check(status == 0, f"{device}: opencps ecps approve: {output.strip()}")
    browser.find_element(By.XPATH, "//button[contains(., 'Continuer')]").click()
    arrive(browser, "Mon espace")


enrol(IDNAT, "telephone")
driver = new_browser("portal")
agent = None
try:
    log_in(driver, IDNAT, "telephone")
    check("/portail/agent" not in driver.page_source, "a professional without a staff role has no link to the staff space")
    check(SERIAL in driver.page_source, "logged in: the space shows the card")
    keyboard_tour(driver)

    # A second device, enrolled from the portal's QR page with its text payload.
    driver.get(f"{BASE}/portail")
    driver.find_element(By.LINK_TEXT, "Ajouter un appareil").click()
    arrive(driver, "Ajouter un appareil")
    audit(driver, "appareil-ajout", shoot=False)
    driver.find_element(By.XPATH, "//button[contains(., 'Afficher le code')]").click()
    arrive(driver, "Code d'enrôlement")
    qr = driver.find_element(By.CSS_SELECTOR, "figure.qr svg")
    check(qr.get_attribute("role") == "img" and "90 secondes" in qr.get_attribute("aria-label"), "the QR code is an image with its label")
    payload = driver.find_element(By.ID, "code-enrolement").text.strip()
    audit(driver, "appareil-code")
    status, output = ecps("tablette", "enrol", "--payload", payload, "--pin", PIN, "--label", "Tablette")
    check(status == 0, f"the portal's text payload enrols a device with opencps ecps enrol: {output.strip()}")
    status, output = ecps("autre", "enrol", "--payload", payload, "--pin", PIN, "--label", "Autre")
    check(status != 0, "the same code does not enrol a second time")
    driver.get(f"{BASE}/portail")
    check("Tablette" in driver.page_source, "the space lists the new device")

    # The postal address: an error tied to its field, then saved.
    driver.find_element(By.LINK_TEXT, "Changer mon adresse postale").click()
    arrive(driver, "Changer mon adresse postale")
    field = driver.find_element(By.ID, "codePostal")
    field.clear()
    field.send_keys("6900")
    driver.find_element(By.XPATH, "//button[contains(., 'Enregistrer')]").click()
    arrive(driver, "Erreur")
    field = driver.find_element(By.ID, "codePostal")
    check("codePostal-erreur" in (field.get_attribute("aria-describedby") or "") and field.get_attribute("aria-invalid") == "true",
          "a wrong postal code's error is tied to its field")
    audit(driver, "adresse-erreur")
    field.clear()
    field.send_keys("69003")
    line = driver.find_element(By.ID, "ligne")
    line.clear()
    line.send_keys("8 rue Garibaldi")
    driver.find_element(By.XPATH, "//button[contains(., 'Enregistrer')]").click()
    arrive(driver, "Mon espace")
    check("8 rue Garibaldi, 69003" in driver.page_source, "the space shows the new address")

    # The card is lost: its replacement's file is completed in the browser.
    driver.find_element(By.PARTIAL_LINK_TEXT, "Déclarer la perte").click()
    arrive(driver, "Déclarer")
    driver.find_element(By.ID, "motif-perte").click()
    driver.find_element(By.XPATH, "//button[contains(., 'Confirmer')]").click()
    arrive(driver, "Mon espace")
    driver.find_element(By.LINK_TEXT, "Mes demandes de carte").click()
    arrive(driver, "Mes demandes de carte")
    audit(driver, "demandes")
    driver.find_element(By.CSS_SELECTOR, "main ul a[href^='/portail/demandes/']").click()
    arrive(driver, "Ma demande de carte")
    file_url = driver.current_url.split("?")[0]
    file_id = file_url.rstrip("/").split("/")[-1]
    check("0 sur 3" in driver.page_source and "Manquante" in driver.page_source, "the file lists the three documents required, all missing")
    audit(driver, "demande")

    def upload(kind, path):
        Select(driver.find_element(By.ID, "piece")).select_by_value(kind)
        driver.find_element(By.ID, "fichier").send_keys(path)
        click_and_wait(driver, "//button[contains(., 'Ajouter la pièce')]")

    upload("identity", document("notes.txt", b"pas une piece"))
    arrive(driver, "Erreur")
    field = driver.find_element(By.ID, "fichier")
    check("fichier-erreur" in (field.get_attribute("aria-describedby") or "") and "PDF, un JPEG ou un PNG" in driver.page_source,
          "a text file is refused with a clear message tied to the file field")
    audit(driver, "demande-erreur")
    for kind, name in (("identity", "identite.pdf"), ("diploma_or_register_entry", "diplome.pdf"), ("proof_of_activity", "attestation.pdf")):
        upload(kind, document(name, PDF))
        check("fait=piece" in driver.current_url, f"the {kind} document is added")
    check("3 sur 3" in driver.page_source and "Manquante" not in driver.page_source, "the three documents are sent")
    click_and_wait(driver, "//button[contains(., 'Envoyer mon dossier')]")
    check("fait=envoi" in driver.current_url, "the file is sent")
    check("en cours d'examen" in driver.page_source, "the file is submitted")
    audit(driver, "demande-envoyee")

    # The agency's agent, in a browser of their own, rejects it from the staff queue.
    enrol(AGENT, "agent")
    agent = new_browser("agent")
    log_in(agent, AGENT, "agent")
    agent.find_element(By.LINK_TEXT, "Mon espace agent").click()
    arrive(agent, "Espace agent")
    agent.find_element(By.PARTIAL_LINK_TEXT, "Agence régionale de santé").click()
    arrive(agent, "Dossiers à traiter")
    queue_url = agent.current_url.split("?")[0]
    agent.find_element(By.CSS_SELECTOR, f"a[href$='/dossiers/{file_id}']").click()
    arrive(agent, "Dossier")
    check("Pièces déposées" in agent.page_source and "Valider le dossier" in agent.page_source, "the agent sees the documents sent and the decision")
    audit(agent, "instance-dossier", shoot=False)
    agent.find_element(By.ID, "motif").send_keys("Le diplôme envoyé est illisible.")
    click_and_wait(agent, "//button[contains(., 'Refuser le dossier')]")
    arrive(agent, "Dossiers à traiter")
    check("Le dossier est refusé" in agent.page_source and file_id not in agent.page_source, "the agent rejects the file; it leaves the queue")
    audit(agent, "instance-refus", shoot=False)

    driver.get(file_url)
    check("Votre dossier a été refusé" in driver.page_source and "Le diplôme envoyé est illisible." in driver.page_source,
          "the applicant sees the rejection and its reason")
    audit(driver, "demande-refusee")
    upload("diploma_or_register_entry", document("diplome-lisible.pdf", PDF))
    check("fait=piece" in driver.current_url, "a readable diploma is added")
    click_and_wait(driver, "//button[contains(., 'Renvoyer mon dossier')]")
    check("fait=envoi" in driver.current_url, "the file is sent again")
    check("en cours d'examen" in driver.page_source, "the file is resubmitted")
    agent.get(queue_url)
    arrive(agent, "Dossiers à traiter")
    agent.find_element(By.CSS_SELECTOR, f"a[href$='/dossiers/{file_id}']").click()
    arrive(agent, "Dossier")
    check("Valider le dossier" in agent.page_source, "the resubmitted file is back in the agent's queue")
    click_and_wait(agent, "//button[contains(., 'Valider le dossier')]")
    arrive(agent, "Dossiers à traiter")
    check("Le dossier est validé" in agent.page_source, "the agent validates the file")
    driver.get(file_url)
    check("Votre dossier est validé" in driver.page_source, "the applicant sees the file validated")
    audit(driver, "demande-validee")
finally:
    driver.quit()
    if agent is not None:
        agent.quit()
print("portal application browser: all checks passed")
