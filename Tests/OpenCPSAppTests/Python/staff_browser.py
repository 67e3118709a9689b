"""The portal's staff pages in a real browser: Debian's headless Chromium, driven with Selenium.

Usage: staff_browser.py BASE OPENCPS WORK SHOTS SCENARIO_JSON

BASE is a listening OpenCPS (the test's application, whose clock runs 40 days late until the
files below exist, then follows the real time), OPENCPS the executable (its `ecps` commands are
each staff member's phone), WORK a folder for the devices, SHOTS the folder that receives the
screenshots, SCENARIO_JSON a file naming the people, tokens and files:

- `agent` (idNat, token): the regional agency's agent; `pending` a file awaiting its
  validation, with documents uploaded through the JSON API by `applicant` (idNat, token);
- `desk` (idNat, token): the help desk; `overdue` a validated file past its due date;
- `manager` (idNat, token, structure): a CDE holder; `staff` a person working in the structure.

Each logs in with e-CPS (enrolled with `opencps ecps enrol`, approved with `opencps ecps
approve`) and reaches the staff space by their space's link. The agent rejects the file (refused first without a reason), the applicant resubmits
it, the agent validates it; the help desk finds the overdue file and moves it to express; the
manager orders a CPE, adds its documents in the browser (a text file refused first, the error
on its field) and sends it. On every page: axe-core finds no serious or critical violation, the page
has a title and `lang="fr"`, every input has a label. Exits non-zero on the first failure.
"""

import json
import os
import subprocess
import sys

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

import browser_pages
from browser_pages import PIN, arrive, check, click_and_wait, new_browser

BASE, OPENCPS, WORK, SHOTS, SCENARIO = sys.argv[1:6]
with open(SCENARIO, encoding="utf-8") as handle:
    S = json.load(handle)


def audit(driver, name, shoot=True):
    browser_pages.audit(driver, name, SHOTS, shoot)


def browser():
    return new_browser("staff")


def ecps(device, *arguments):
    environment = {key: value for key, value in os.environ.items() if not key.startswith("OPENCPS_")}
    result = subprocess.run([OPENCPS, "ecps", *arguments, "--device-dir", device], capture_output=True, text=True, timeout=60, env=environment)
    return result.returncode, result.stdout + result.stderr


def log_in(driver, person, label, space_shot=None):
    """Enrols the person's phone, logs in on the portal with e-CPS, and follows their space's
    link to the staff space."""
    device = os.path.join(WORK, f"device-{label}")
    answer = requests.post(f"{BASE}/api/v1/ecps/enrolments", headers={"Authorization": f"Bearer {person['token']}"}, timeout=10)
    check(answer.status_code == 201, f"{label}: the card session gives a QR payload ({answer.status_code})")
    status, output = ecps(device, "enrol", "--payload", answer.json()["payload"], "--pin", PIN, "--label", "Téléphone")
    check(status == 0, f"{label}: opencps ecps enrol: {output.strip()}")
    driver.get(f"{BASE}/portail/connexion")
    arrive(driver, "Connexion")
    driver.find_element(By.ID, "idNat").send_keys(person["idNat"])
    driver.find_element(By.XPATH, "//button[contains(., 'Se connecter avec e-CPS')]").click()
    arrive(driver, "En attente")
    request_id = driver.find_element(By.CSS_SELECTOR, "input[name='request']").get_attribute("value")
    status, output = ecps(device, "approve", request_id, "--pin", PIN)
    check(status == 0, f"{label}: opencps ecps approve: {output.strip()}")
    driver.find_element(By.XPATH, "//button[contains(., 'Continuer')]").click()
    arrive(driver, "Mon espace")
    if space_shot:
        audit(driver, space_shot)
    driver.find_element(By.LINK_TEXT, "Mon espace agent").click()
    arrive(driver, "Espace agent")


def cookies(driver):
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    return session


# 1. The regional agency's agent rejects the file, then validates it once resubmitted.
driver = browser()
try:
    agent, pending = S["agent"], S["pending"]
    log_in(driver, agent, "agent", space_shot="agent-espace")
    audit(driver, "agent-roles")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Agence régionale de santé").click()
    arrive(driver, "Dossiers à traiter")
    check(pending in driver.page_source, "the queue lists the file awaiting validation")
    audit(driver, "agent-dossiers")
    driver.find_element(By.CSS_SELECTOR, f"a[href$='/dossiers/{pending}']").click()
    arrive(driver, "Dossier")
    check("Valider le dossier" in driver.page_source and "Pièces déposées" in driver.page_source, "the file shows its documents and the decision")
    audit(driver, "agent-dossier")
    document = driver.find_element(By.PARTIAL_LINK_TEXT, "Voir").get_attribute("href")
    shown = cookies(driver).get(document, timeout=10)
    check(shown.status_code == 200 and shown.headers.get("Content-Type") == "application/pdf"
          and shown.headers.get("Content-Disposition", "").startswith("inline") and "sandbox" in shown.headers.get("Content-Security-Policy", ""),
          "a document is served inline with its type under a strict policy")
    driver.find_element(By.XPATH, "//button[contains(., 'Refuser le dossier')]").click()
    arrive(driver, "Erreur")
    field = driver.find_element(By.ID, "motif")
    check("motif-erreur" in (field.get_attribute("aria-describedby") or ""), "a rejection without reason is refused, the error tied to the field")
    audit(driver, "agent-refus-erreur")
    field.send_keys("Pièce d'identité illisible : merci d'en déposer une copie nette.")
    driver.find_element(By.XPATH, "//button[contains(., 'Refuser le dossier')]").click()
    arrive(driver, "Dossiers à traiter")
    check("Le dossier est refusé" in driver.page_source and pending not in driver.page_source, "the file is rejected and leaves the queue")

    applicant = S["applicant"]
    resubmitted = requests.post(f"{BASE}/api/v1/cards/{pending}/submit", headers={"Authorization": f"Bearer {applicant['token']}"}, timeout=10)
    check(resubmitted.status_code == 200, f"the applicant resubmits through the API ({resubmitted.status_code})")
    driver.refresh()
    driver.get(f"{BASE}/portail/agent/ars-84/dossiers/{pending}")
    arrive(driver, "Dossier")
    driver.find_element(By.XPATH, "//button[contains(., 'Valider le dossier')]").click()
    arrive(driver, "Dossiers à traiter")
    check("Le dossier est validé" in driver.page_source, "the file is validated")
    state = requests.get(f"{BASE}/api/v1/cards/{pending}", headers={"Authorization": f"Bearer {applicant['token']}"}, timeout=10).json()["card"]["state"]
    check(state == "validated", f"the API says validated ({state})")
finally:
    driver.quit()

# 2. The help desk finds the overdue file and moves it to express.
driver = browser()
try:
    desk, overdue = S["desk"], S["overdue"]
    log_in(driver, desk, "desk")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Guichet unique").click()
    arrive(driver, "Guichet unique")
    check(overdue in driver.page_source and "Dossiers en retard" in driver.page_source, "the overdue list shows the late file")
    audit(driver, "guichet")
    driver.find_element(By.ID, "q").send_keys(S["overdueHolder"])
    driver.find_element(By.XPATH, "//button[contains(., 'Rechercher')]").click()
    arrive(driver, "Recherche")
    check("Résultats" in driver.page_source and overdue in driver.page_source, "the search by idNat finds the file")
    audit(driver, "guichet-recherche")
    driver.find_element(By.CSS_SELECTOR, f"#titre-resultats ~ table a[href$='/dossiers/{overdue}']").click()
    arrive(driver, "Dossier")
    check("(dépassée)" in driver.page_source, "the file shows its due date, passed")
    audit(driver, "guichet-dossier")
    driver.find_element(By.ID, "justification").send_keys("Prise de poste aux urgences le lundi : justificatif de l'employeur reçu.")
    driver.find_element(By.XPATH, "//button[contains(., 'Passer en urgence')]").click()
    WebDriverWait(driver, 15).until(lambda d: "fait=urgence" in d.current_url)
    check("passe en urgence" in driver.page_source and "Prise de poste" in driver.page_source, "the file is on the express path")
finally:
    driver.quit()

# 3. The manager orders a CPE for a person of the structure.
driver = browser()
try:
    manager = S["manager"]
    log_in(driver, manager, "manager")
    check(driver.page_source.count("Responsable de la structure") >= 2, "the manager of two structures chooses a role")
    driver.find_element(By.CSS_SELECTOR, f"a[href='/portail/agent/manager-{manager['structure']}/personnel']").click()
    arrive(driver, "Mon personnel")
    check(S["staff"] in driver.page_source, "the staff list shows the structure's people")
    audit(driver, "personnel")
    driver.find_element(By.ID, "idNat").send_keys(S["staff"])
    driver.find_element(By.ID, "type-cpe").click()
    driver.find_element(By.XPATH, "//button[contains(., 'Commander')]").click()
    WebDriverWait(driver, 15).until(lambda d: "fait=commande" in d.current_url)
    check("La commande est enregistrée" in driver.page_source and "Commandée" in driver.page_source, "the CPE is ordered")
    audit(driver, "personnel-commande")
    order_url = driver.current_url.split("?")[0]
    driver.find_element(By.LINK_TEXT, "Mon personnel").click()
    arrive(driver, "Mon personnel")
    check("Commandée" in driver.page_source, "the order is followed from the staff list")

    # The order's documents, added in the browser, then the file sent.
    driver.get(order_url)
    arrive(driver, "Dossier")
    missing = driver.find_element(By.XPATH, "//p[starts-with(normalize-space(.), 'Pièces manquantes')]").text
    kinds = [o.get_attribute("value") for o in Select(driver.find_element(By.ID, "piece")).options if o.get_attribute("value") and o.text in missing]
    check(kinds, f"the order's file names the documents missing ({missing})")

    def upload(kind, name, content):
        path = os.path.join(WORK, name)
        with open(path, "wb") as out:
            out.write(content)
        Select(driver.find_element(By.ID, "piece")).select_by_value(kind)
        driver.find_element(By.ID, "fichier").send_keys(path)
        # The next page, not the one before it: after the first upload the URL already says fait=piece.
        click_and_wait(driver, "//button[contains(., 'Ajouter la pièce')]")

    upload(kinds[0], "notes.txt", b"pas une piece")
    arrive(driver, "Erreur")
    field = driver.find_element(By.ID, "fichier")
    check("fichier-erreur" in (field.get_attribute("aria-describedby") or "") and "PDF, un JPEG ou un PNG" in driver.page_source,
          "a text file is refused, the error tied to the file field")
    audit(driver, "personnel-piece-erreur")
    for index, kind in enumerate(kinds):
        upload(kind, f"piece-{index}.pdf", b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
        WebDriverWait(driver, 15).until(lambda d: "fait=piece" in d.current_url)
        check("La pièce est ajoutée" in driver.page_source, f"the {kind} document is added")
    driver.find_element(By.XPATH, "//button[contains(., 'Envoyer le dossier')]").click()
    WebDriverWait(driver, 15).until(lambda d: "fait=envoi" in d.current_url)
    check("Le dossier est envoyé" in driver.page_source and "Valider le dossier" in driver.page_source,
          "the order is sent, and waits for the manager's validation")
    audit(driver, "personnel-envoi")
finally:
    driver.quit()
print("staff browser: all checks passed")
