"""What the portal's browser scripts share: checks, waits, the per-page accessibility audit
(title, lang, labels, optionally the skip link, axe-core) with its screenshots, and a headless
Chromium (Debian's `chromium` and `chromium-driver`, driven with Selenium)."""

import os
import sys
import tempfile

from axe_selenium_python import Axe
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

PIN = "246810"
DESKTOP = (1280, 900)
PHONE = (390, 844)
FOCUSABLE = "a[href], button, input:not([type=hidden]), select, textarea"


def check(condition, what):
    """Prints what was checked; exits non-zero on the first failure."""
    if not condition:
        print(f"FAILED: {what}")
        sys.exit(1)
    print(f"ok: {what}")


def arrive(driver, title):
    """Waits for the page a click leads to: a click returns before the browser has followed
    the form's answer and its redirects."""
    WebDriverWait(driver, 15).until(lambda d: d.title.startswith(title))


def audit(driver, name, shots, shoot=True, skip_link=False):
    """The page's accessibility and structure checks, then its screenshots (desktop and phone
    width) into the folder `shots`."""
    check(driver.title.strip() != "" and "OpenCPS" in driver.title, f"{name}: a title ({driver.title})")
    check(driver.find_element(By.TAG_NAME, "html").get_attribute("lang") == "fr", f"{name}: lang=fr")
    for field in driver.find_elements(By.CSS_SELECTOR, "input, select, textarea"):
        if field.get_attribute("type") in ("hidden", "submit", "button"):
            continue
        ident = field.get_attribute("id")
        labelled = bool(ident) and len(driver.find_elements(By.CSS_SELECTOR, f"label[for='{ident}']")) == 1
        check(labelled or field.get_attribute("aria-label"), f"{name}: input {field.get_attribute('name')} has a label")
    if skip_link:
        first = driver.execute_script(f"return document.querySelector({FOCUSABLE!r})")
        check(first is not None and first.get_attribute("class") == "evitement" and first.get_attribute("href").endswith("#contenu")
              and driver.find_elements(By.ID, "contenu"), f"{name}: a skip link to the main content comes first")
    axe = Axe(driver)
    axe.inject()
    results = axe.run()
    serious = [v for v in results["violations"] if v.get("impact") in ("serious", "critical")]
    check(not serious, f"{name}: axe-core finds no serious or critical violation {[(v['id'], v['nodes'][0]['html'][:80]) for v in serious]}")
    if shoot:
        os.makedirs(shots, exist_ok=True)
        for label, (width, height) in (("bureau", DESKTOP), ("telephone", PHONE)):
            driver.set_window_size(width, height)
            full = driver.execute_script("return document.documentElement.scrollHeight")
            driver.set_window_size(width, max(height, min(full + 140, 3000)))
            driver.save_screenshot(os.path.join(shots, f"{name}-{label}.png"))
        driver.set_window_size(*DESKTOP)


def new_browser(prefix):
    """A headless Chromium with a profile of its own."""
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", f"--window-size={DESKTOP[0]},{DESKTOP[1]}"):
        options.add_argument(argument)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix=f'{prefix}-chromium-')}")
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    driver.implicitly_wait(5)
    return driver


def click_and_wait(driver, xpath):
    """Clicks a button and waits until the browser has left the page (a form's answer can
    land on the same address as the page it left)."""
    page = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.XPATH, xpath).click()

    def left(_):
        try:
            return expected_conditions.staleness_of(page)(driver)
        except WebDriverException as error:
            # Chromium may answer for the old page's node, while it is being replaced, with
            # "does not belong to the document" rather than a stale reference: it is gone too.
            if "does not belong to the document" in str(error):
                return True
            raise

    WebDriverWait(driver, 15).until(left)
