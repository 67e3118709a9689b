"""The web portal in a real browser: Debian's headless Chromium, driven with Selenium.

Usage: portal_browser.py BASE OPENCPS DEVICE_DIR IDNAT SERIAL CERT_PEM OTHER_IDNAT SHOTS

BASE is `opencps serve --demo`'s base URL, OPENCPS the executable (its `ecps` commands are the
professional's phone), DEVICE_DIR a folder for that device, IDNAT and SERIAL a demo holder
with an active CPS, CERT_PEM that card's authentication certificate, OTHER_IDNAT another
holder, SHOTS the folder that receives the screenshots (desktop and phone width).

The professional enrols an e-CPS device from a QR payload of their card session, logs in on
the portal by approving on it, sees their card, declares its loss with confirmation and sees
it blocked; `openssl ocsp` then says its certificate is revoked. On every page: axe-core finds
no serious or critical violation, the page has a title and `lang="fr"`, and every input has a
label. A form posted without its CSRF token is refused; another holder's card is not shown
when its identifier is typed into the URL. Exits non-zero on the first failure.
"""

import os
import re
import subprocess
import sys

import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import browser_pages
from browser_pages import PIN, arrive, check, new_browser

BASE, OPENCPS, DEVICE_DIR, IDNAT, SERIAL, CERT_PEM, OTHER_IDNAT, SHOTS = sys.argv[1:9]


def audit(driver, name, shoot=True):
    browser_pages.audit(driver, name, SHOTS, shoot)


def ecps(*arguments):
    result = subprocess.run([OPENCPS, "ecps", *arguments, "--device-dir", DEVICE_DIR], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout + result.stderr


# The professional's phone: a device enrolled from the QR payload of their card session
# (the demo's holder token stands for the card session).
answer = requests.post(f"{BASE}/api/v1/ecps/enrolments", headers={"Authorization": f"Bearer demo-holder-{IDNAT}"}, timeout=10)
check(answer.status_code == 201, f"the card session gives a QR payload ({answer.status_code})")
status, output = ecps("enrol", "--payload", answer.json()["payload"], "--pin", PIN, "--label", "Téléphone")
check(status == 0, f"opencps ecps enrol: {output.strip()}")

driver = new_browser("portal")
try:
    driver.get(f"{BASE}/")
    audit(driver, "accueil")
    driver.find_element(By.LINK_TEXT, "Se connecter").click()
    arrive(driver, "Connexion")
    check("/oidc/authorize" in driver.current_url, "the portal sends the browser to the provider")
    check("Se connecter avec e-CPS" in driver.page_source and "opencps card login" in driver.page_source, "the provider's login page offers e-CPS and explains the card")
    audit(driver, "connexion")

    driver.find_element(By.ID, "idNat").send_keys("12")
    driver.find_element(By.XPATH, "//button[contains(., 'Se connecter avec e-CPS')]").click()
    arrive(driver, "Erreur")
    field = driver.find_element(By.ID, "idNat")
    check("idNat-erreur" in (field.get_attribute("aria-describedby") or ""), "a wrong idNat's error is tied to its field")
    audit(driver, "connexion-erreur", shoot=False)
    field.clear()
    field.send_keys(IDNAT)
    driver.find_element(By.XPATH, "//button[contains(., 'Se connecter avec e-CPS')]").click()
    arrive(driver, "En attente")
    binding = driver.find_element(By.ID, "code-liaison").text.strip()
    check(re.fullmatch(r"[A-Z][0-9]-[0-9]{2}", binding) is not None, f"the waiting page shows the binding message {binding}")
    audit(driver, "attente")

    request_id = driver.find_element(By.CSS_SELECTOR, "input[name='request']").get_attribute("value")
    status, output = ecps("pending")
    check(status == 0 and request_id in output and binding in output and "Portail OpenCPS" in output, "the device lists the portal's request with its binding message")
    status, output = ecps("approve", request_id, "--pin", PIN)
    check(status == 0, f"opencps ecps approve: {output.strip()}")
    driver.find_element(By.XPATH, "//button[contains(., 'Continuer')]").click()
    arrive(driver, "Mon espace")
    check(driver.current_url.rstrip("/").endswith("/portail"), f"logged in, on the space ({driver.current_url})")
    page = driver.page_source
    check(SERIAL in page and "Active" in page, "the space shows the card, active")
    check(IDNAT in page, "the space shows the identity")
    audit(driver, "espace")

    # A form posted without its CSRF token is refused, and the card stays active.
    session = requests.Session()
    for cookie in driver.get_cookies():
        session.cookies.set(cookie["name"], cookie["value"])
    link = driver.find_element(By.PARTIAL_LINK_TEXT, "Déclarer la perte").get_attribute("href")
    forged = session.post(link, data={"motif": "perte"}, allow_redirects=False, timeout=10)
    check(forged.status_code == 403, f"a form without its CSRF token is refused ({forged.status_code})")
    # Another holder's card, its identifier typed into the URL, shows nothing.
    cards = requests.get(f"{BASE}/api/v1/cards", params={"idNat": OTHER_IDNAT}, headers={"Authorization": "Bearer demo-helpdesk"}, timeout=10).json()
    items = cards if isinstance(cards, list) else cards.get("items", [])
    check(len(items) > 0, "the other holder has a card")
    other = session.get(f"{BASE}/portail/cartes/{items[0]['id']}/opposition", timeout=10)
    check(other.status_code == 404 and OTHER_IDNAT not in other.text, "another holder's card is not shown")
    csrf = driver.find_element(By.CSS_SELECTOR, "input[name='csrf']").get_attribute("value")
    other_post = session.post(f"{BASE}/portail/cartes/{items[0]['id']}/opposition", data={"motif": "vol", "csrf": csrf}, allow_redirects=False, timeout=10)
    check(other_post.status_code == 404, "another holder's card cannot be opposed")

    driver.get(link)
    check("Confirmer l'opposition" in driver.page_source, "the loss asks for confirmation")
    audit(driver, "opposition")
    driver.find_element(By.ID, "motif-perte").click()
    driver.find_element(By.XPATH, "//button[contains(., 'Confirmer')]").click()
    WebDriverWait(driver, 15).until(lambda d: "fait=opposition" in d.current_url)
    arrive(driver, "Mon espace")
    page = driver.page_source
    check("En opposition" in page and "Votre carte est bloquée" in page, "the space shows the card blocked")
    audit(driver, "espace-apres-opposition")
    driver.find_element(By.PARTIAL_LINK_TEXT, "Historique").click()
    arrive(driver, "Historique")
    check("Opposition (perte ou vol)" in driver.page_source, "the card's history shows the opposition")
    audit(driver, "historique")

    ca = os.path.join(os.path.dirname(CERT_PEM), "forte-personnes.pem")
    with open(ca, "wb") as out:
        out.write(requests.get(f"{BASE}/pki/forte-personnes.pem", timeout=10).content)
    ocsp = subprocess.run(
        ["openssl", "ocsp", "-issuer", ca, "-cert", CERT_PEM, "-url", f"{BASE}/ocsp/forte-personnes", "-noverify", "-resp_text"],
        capture_output=True, text=True, timeout=30)
    check("Cert Status: revoked" in ocsp.stdout, f"openssl ocsp says the card's certificate is revoked\n{ocsp.stdout[-400:]}{ocsp.stderr[-400:]}")

    driver.find_element(By.XPATH, "//button[contains(., 'Se déconnecter')]").click()
    arrive(driver, "Accueil")
    check("Se connecter" in driver.page_source and "Se déconnecter" not in driver.page_source, "logout ends at the home page, logged out")
finally:
    driver.quit()
print("portal browser: all checks passed")
