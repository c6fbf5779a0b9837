#!/usr/bin/env python3
"""Drives the CookieSessions demo page in headless Chromium through WebDriver (Selenium).

    python3 scripts/browser_test.py SERVER_BINARY [--mode client|server|hybrid] [--screenshot PNG]

Starts the server on a free loopback port, then checks, as a user would see it, that the
counter counts, that login and logout work, that a flash message shows once, and that a session
grown past one cookie is stored and sent back by the browser in every chunk (and the chunks go
when it shrinks). Exits non-zero on the first failed check.
"""

import argparse
import os
import re
import subprocess
import sys

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def start_server(binary, mode):
    process = subprocess.Popen(
        [binary, "--port", "0", "--mode", mode, "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = process.stdout.readline()
    match = re.search(r"127\.0\.0\.1:(\d+)", line)
    if not match:
        process.kill()
        sys.exit(f"the server printed no port: {line!r}")
    return process, int(match.group(1))


def browser():
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=900,1100"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


class Page:
    def __init__(self, driver, url):
        self.driver = driver
        self.url = url
        self.wait = WebDriverWait(driver, 20)

    def load(self):
        self.driver.get(self.url)
        self.wait.until(EC.text_to_be_present_in_element((By.ID, "status"), "ready"))

    def text(self, element):
        return self.driver.find_element(By.ID, element).text

    def click(self, button, path):
        self.driver.execute_script("document.getElementById('status').textContent = ''")
        self.driver.find_element(By.ID, button).click()
        self.wait.until(EC.text_to_be_present_in_element((By.ID, "status"), "done: " + path))

    def type(self, field, text):
        element = self.driver.find_element(By.ID, field)
        element.clear()
        element.send_keys(text)

    def session_cookies(self):
        return sorted((c for c in self.driver.get_cookies() if re.fullmatch(r"session(_\d+)?", c["name"])),
                      key=lambda c: c["name"])


def check(condition, message):
    if not condition:
        raise AssertionError(message)
    print("ok -", message)


def run(binary, mode, screenshot):
    server, port = start_server(binary, mode)
    driver = browser()
    try:
        page = Page(driver, f"http://127.0.0.1:{port}/")
        page.load()
        check(page.text("count") == "0" and page.text("user") == "nobody", "a new visitor has an empty session")
        check(page.session_cookies() == [], "a visitor who changes nothing gets no cookie")

        for expected in ("1", "2", "3"):
            page.click("increment", "GET /counter")
            check(page.text("count") == expected, f"the counter shows {expected}")
        cookies = page.session_cookies()
        check(len(cookies) == 1, "the browser holds one session cookie")
        cookie = cookies[0]
        check(cookie["httpOnly"] and cookie["secure"] and cookie.get("sameSite") == "Lax" and cookie["path"] == "/",
              "the cookie is HttpOnly, Secure, SameSite=Lax, Path=/")
        check(driver.execute_script("return document.cookie") == "", "page scripts cannot read the session cookie")

        before_login = cookie["value"]
        page.type("name", "alice")
        page.click("login", "POST /login")
        check(page.text("user") == "alice", "login shows the user")
        check(page.session_cookies()[0]["value"] != before_login, "login replaced the cookie")
        check(page.text("count") == "3", "the counter survived the login")

        page.type("message", "Saved!")
        page.click("flash", "POST /flash")
        page.load()
        messages = [item.text for item in driver.find_elements(By.CSS_SELECTOR, "#messages li")]
        check(messages == ["Saved!"], "the flash message shows on the next page")
        page.load()
        check(driver.find_elements(By.CSS_SELECTOR, "#messages li") == [], "and only once")

        for _ in range(3):
            page.click("grow", "POST /grow")
        check(page.text("ballast") == "21000", "the server reads back all 21,000 bytes the session grew by")
        cookies = page.session_cookies()
        names = [c["name"] for c in cookies]
        if mode in ("client", "hybrid"):
            expected = ["session"] + [f"session_{i}" for i in range(1, len(cookies))]
            check(len(cookies) > 1 and names == sorted(expected), f"the browser stores all {len(cookies)} chunk cookies")
            check(all(len(c["name"]) + 1 + len(c["value"]) <= 4096 for c in cookies), "every cookie fits in 4096 bytes")
            check(page.text("cookies") == str(len(cookies)), "the browser sent every chunk back")
        else:
            check(names == ["session"], "server mode keeps the session in the store, one cookie in the browser")
        check(page.text("user") == "alice" and page.text("count") == "3", "the grown session still holds the user")
        if screenshot:
            driver.save_screenshot(screenshot)
            print("screenshot written to", screenshot)

        if mode == "hybrid":
            for _ in range(2):
                page.click("grow", "POST /grow")
            check(page.text("ballast") == "35000", "the server reads back all 35,000 bytes")
            check([c["name"] for c in page.session_cookies()] == ["session"],
                  "past the cookie budget, hybrid mode moved the session to the store and deleted the chunks")

        page.click("shrink", "POST /shrink")
        check([c["name"] for c in page.session_cookies()] == ["session"], "shrinking deleted the chunk cookies")
        check(page.text("cookies") == "1" and page.text("ballast") == "0", "the server sees one cookie again")

        page.click("logout", "POST /logout")
        check(page.text("user") == "nobody" and page.text("count") == "0", "logout empties the session")
        check(page.session_cookies() == [], "logout deleted the cookie")
    finally:
        driver.quit()
        server.terminate()
        server.wait()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("binary")
    parser.add_argument("--mode", default="client", choices=["client", "server", "hybrid"])
    parser.add_argument("--screenshot")
    arguments = parser.parse_args()
    if not os.access(arguments.binary, os.X_OK):
        sys.exit(f"not an executable: {arguments.binary}")
    run(arguments.binary, arguments.mode, arguments.screenshot)


if __name__ == "__main__":
    main()
