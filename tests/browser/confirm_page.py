"""The email confirmation page in a real browser (Debian's Chromium, driven by selenium).

Starts the local server binary on a free port with a fresh data directory, creates two contacts
with emails, takes each confirmation link from the real email in the outbox and opens it in
headless Chromium at phone width (390x844): the page must change nothing, show what CTIA asks
a consent page to show, confirm (first contact) or decline (second), with no CSP or script
error in the console and no serious or critical axe-core violation on any page. Screenshots of
every page go to the output directory.

Run by scripts/test:
    .venv/bin/python tests/browser/confirm_page.py --server target/debug/consent-local \
        --axe node_modules/axe-core/axe.min.js --out "$CARGO_TARGET_DIR/browser-test"

Every check is counted; any failure exits non-zero, and nothing is skipped.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.request
from pathlib import Path
from typing import NamedTuple

# No Selenium Manager: it would try to download a driver; the test uses Debian's.
os.environ.setdefault("SE_OFFLINE", "true")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WIDTH, HEIGHT = 390, 844
FIRM = "Demo Law LLP"
PRIVACY_URL = "https://demo-law.example/privacy"
TERMS_URL = "https://demo-law.example/sms-terms"
# Daytime in every US time zone, so the opt-in SMS is not held for quiet hours.
DAYTIME = "2026-12-01T18:00:00Z"
WAIT_SECS = 10


class Checks:
    """Counts checks; a failed one is printed and the run goes on, so one run shows them all."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def check(self, ok: bool, what: str, detail: object = "") -> bool:
        if ok:
            self.passed += 1
            print(f"  ok   {what}")
        else:
            self.failed.append(what)
            print(f"  FAIL {what}" + (f": {detail}" if detail != "" else ""))
        return ok


# --- the local server ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http(base: str, method: str, path: str, body: object | None = None) -> tuple[int, object]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        request.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=WAIT_SECS) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode(errors="replace")


def expect(base: str, method: str, path: str, body: object | None, status: int) -> object:
    """A setup call that must answer `status`; anything else ends the run (nothing to test)."""
    got, answer = http(base, method, path, body)
    if got != status:
        raise RuntimeError(f"{method} {path}: expected {status}, got {got}: {answer}")
    return answer


def start_server(binary: str, data_dir: str, log_path: Path) -> tuple[subprocess.Popen, str]:
    addr = f"127.0.0.1:{free_port()}"
    log = open(log_path, "wb")
    server = subprocess.Popen(
        [binary, "--demo", "--addr", addr, "--data-dir", data_dir],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://{addr}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the local server exited ({server.returncode}); see {log_path}")
        try:
            if http(base, "GET", "/health")[0] == 200:
                return server, base
        except OSError:
            pass
        time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"the local server did not answer /health in 30 s; see {log_path}")


def confirmation_link(base: str, email: str) -> str:
    outbox = expect(base, "GET", "/dev/outbox", None, 200)
    mails = [m for m in outbox["email"] if m["to"] == email]
    if len(mails) != 1:
        raise RuntimeError(f"expected one email to {email} in the outbox, found {len(mails)}")
    links = set(re.findall(re.escape(base) + r"/confirm/[A-Za-z0-9._~-]+", mails[0]["text"]))
    if len(links) != 1:
        raise RuntimeError(f"expected one confirmation link in the email to {email}: {links}")
    return links.pop()


def consent(base: str, phone: str) -> dict:
    return expect(base, "GET", f"/v1/firms/demo/consents/{phone}", None, 200)


# --- the browser --------------------------------------------------------------------------------

# Runs before each document's own code, so every violation of the page's CSP is kept. The
# browser does not hold the injected code to the page's policy.
CSP_LISTENER = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(
  e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' ' + (e.sample || '')));
"""


def start_browser(chromium: str, chromedriver: str, profile: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in [
        "--headless",
        "--no-sandbox",  # as root
        "--disable-gpu",
        # Chromium's own background connections would be refused by the closed network.
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--lang=en-US",
    ]:
        options.add_argument(flag)
    # A phone's screen: 390x844 CSS pixels (an iPhone 12 to 15), touch.
    options.add_experimental_option(
        "mobileEmulation",
        {"deviceMetrics": {"width": WIDTH, "height": HEIGHT, "pixelRatio": 2, "touch": True}},
    )
    # The console (log entries, CSP reports, script errors) as chromedriver's "browser" log.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=chromedriver))
    driver.set_page_load_timeout(WAIT_SECS)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": CSP_LISTENER})
    return driver


def console_problems(driver: webdriver.Chrome) -> list[str]:
    """The console's warnings and errors since the last call, and every CSP violation event."""
    problems = [
        f"{e['level']} {e.get('source', '')}: {e['message']}"
        for e in driver.get_log("browser")
        if e["level"] in ("SEVERE", "WARNING")
        or "Content Security Policy" in e["message"]
        or "Refused to" in e["message"]
    ]
    problems += [f"CSP violation: {v}" for v in driver.execute_script("return window.__csp || []")]
    return problems


def screenshot(driver: webdriver.Chrome, out: Path, name: str) -> Path:
    """The whole page as the phone lays it out, not only the part in the viewport."""
    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    height = max(HEIGHT, int(metrics["cssContentSize"]["height"]))
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": WIDTH, "height": height, "scale": 1},
        },
    )
    path = out / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def run_axe(driver: webdriver.Chrome, axe_source: str) -> dict:
    """axe-core on the current page, every rule it runs by default (WCAG 2.0-2.2 A and AA, and
    its best practices): `violations`, `incomplete` (to review by hand) and how many rules
    applied to the page at all."""
    if not driver.execute_script("return typeof window.axe === 'object'"):
        driver.execute_script(axe_source)
    driver.set_script_timeout(30)
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {resultTypes: ['violations']}).then(r => done({"
        "  violations: r.violations, incomplete: r.incomplete.map(i => i.id),"
        "  applied: r.passes.length + r.violations.length + r.incomplete.length"
        "}), e => done({error: String(e)}));"
    )
    if "error" in result:
        raise RuntimeError(f"axe-core failed: {result['error']}")
    return result


def serious_axe_violations(driver: webdriver.Chrome, axe_source: str) -> list[str]:
    """Prints what axe found; returns the ids of the serious and critical violations."""
    result = run_axe(driver, axe_source)
    print(f"       axe: {result['applied']} rules applied; to review: {result['incomplete']}")
    for v in result["violations"]:
        nodes = "; ".join(str(n["target"][0]) if n["target"] else "?" for n in v["nodes"][:5])
        print(f"       axe {v['impact']}: {v['id']}: {v['help']} ({nodes})")
    if result["applied"] < 10:
        raise RuntimeError(f"axe-core applied only {result['applied']} rules: did it run?")
    return [v["id"] for v in result["violations"] if v["impact"] in ("serious", "critical")]


def check_page_quality(checks: Checks, driver, axe_source: str, what: str) -> None:
    """Console clean, styles applied (the CSP's hash matches), fits the phone, axe passes."""
    problems = console_problems(driver)
    checks.check(not problems, f"{what}: no CSP or script error in the console", problems)
    # The stylesheet is allowed by its hash alone: if the hash were wrong the page would still
    # load, unstyled. The page's background is the stylesheet's, not the browser's white.
    background = driver.execute_script(
        "return getComputedStyle(document.body).backgroundColor"
    )
    checks.check(
        background == "rgb(245, 246, 248)", f"{what}: the page's stylesheet applies", background
    )
    width = driver.execute_script(
        "return [window.innerWidth, document.documentElement.scrollWidth]"
    )
    checks.check(
        width[0] == WIDTH and width[1] <= WIDTH,
        f"{what}: laid out at phone width with no sideways scrolling",
        f"viewport {width[0]}, content {width[1]}",
    )
    card = driver.execute_script(
        "const r = document.querySelector('main').getBoundingClientRect();"
        "return [r.left, window.innerWidth - r.right]"
    )
    checks.check(
        min(card) >= 8,
        f"{what}: the card keeps clear of the screen's edges",
        f"{card[0]:.0f} px left, {card[1]:.0f} px right",
    )
    checks.check(
        driver.execute_script("return document.documentElement.lang") == "en",
        f"{what}: the document says its language",
    )
    bad = serious_axe_violations(driver, axe_source)
    checks.check(not bad, f"{what}: no serious or critical axe-core violation", bad)


def body_text(driver) -> str:
    return driver.find_element(By.TAG_NAME, "body").text


def open_link(checks: Checks, driver, base: str, link: str, phone: str, what: str) -> None:
    """Opens the email's link and checks that the GET changed nothing."""
    before = consent(base, phone)
    checks.check(before["status"] == "pending", f"{what}: the consent is pending before", before)
    driver.get(link)
    WebDriverWait(driver, WAIT_SECS).until(lambda d: d.find_elements(By.TAG_NAME, "h1"))
    after = consent(base, phone)
    checks.check(
        after == before, f"{what}: opening the link changed nothing", f"{before} -> {after}"
    )


def check_form(checks: Checks, driver, person: tuple, link: str, what: str) -> None:
    """What CTIA asks a consent page to show, and that the number and token are not shown."""
    _, typed, phone, _, _ = person
    text = body_text(driver)
    checks.check(driver.title == "Confirm text messages", f"{what}: its title", driver.title)
    for shown, which in [
        (FIRM, "the firm's name"),
        (masked(phone), "the masked number"),
        ("Message frequency varies", "the message frequency"),
        ("Msg & data rates may apply", "Msg & data rates"),
        ("Reply STOP to any text to opt out, HELP for help", "STOP and HELP"),
        ("help@demo-law.example", "the firm's support contact"),
    ]:
        checks.check(shown in text, f"{what}: shows {which} ({shown!r})", text)
    spoken = [e.get_attribute("textContent") for e in driver.find_elements(By.CSS_SELECTOR, ".visually-hidden")]
    checks.check(
        f"the number ending in {phone[-4:]}" in spoken,
        f"{what}: a screen reader hears the last four digits, not the mask's stars",
        spoken,
    )
    silent = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "[aria-hidden=true]")]
    checks.check(
        masked(phone) in silent, f"{what}: the masked number is hidden from screen readers", silent
    )
    spellings = [phone, phone[2:], typed, typed[-8:]]
    checks.check(
        not [s for s in spellings if s in text], f"{what}: the full number is not shown", text
    )
    token = link.rsplit("/", 1)[1]
    checks.check(token not in driver.page_source, f"{what}: the token is not in the page")
    for label, url in [("Privacy policy", PRIVACY_URL), ("Messaging terms", TERMS_URL)]:
        links = driver.find_elements(By.LINK_TEXT, label)
        checks.check(
            len(links) == 1 and links[0].get_attribute("href") == url and links[0].is_displayed(),
            f"{what}: links {label!r} to the firm's page",
            [(a.get_attribute("href"), a.is_displayed()) for a in links],
        )
    for value, label in [("confirm", "Yes, text me"), ("decline", "This isn't me / No thanks")]:
        buttons = driver.find_elements(By.CSS_SELECTOR, f"form button[value={value}]")
        checks.check(
            len(buttons) == 1 and buttons[0].is_displayed() and buttons[0].text == label,
            f"{what}: a visible {value} button labelled {label!r}",
            [b.text for b in buttons],
        )


def masked(phone: str) -> str:
    """How the pages show a number: country and area code, and the last four digits."""
    return phone[:5] + "***" + phone[-4:]


def press(driver, value: str, title: str) -> None:
    driver.find_element(By.CSS_SELECTOR, f"form button[value={value}]").click()
    WebDriverWait(driver, WAIT_SECS).until(lambda d: d.title == title)


# --- the test -----------------------------------------------------------------------------------


class Choice(NamedTuple):
    """What pressing one button of the form leads to."""

    action: str  # the button's value
    form_shot: str  # the screenshot of the form
    form_what: str  # how the form's checks are named
    title: str  # the title of the page after
    done_shot: str  # the screenshot of the page after
    done: str  # how the checks of the page after are named
    words: tuple  # what that page says besides the firm and the masked number
    said: str  # how that check is named
    expected: tuple  # the record's status and basis after


CONFIRM = Choice("confirm", "1-confirm-form", "form", "You're confirmed", "2-confirmed",
                 "confirmed", (), "names the firm and the masked number",
                 ("opted_in", "email_confirmation"))
DECLINE = Choice("decline", "3-decline-form", "form (second contact)", "You won't get texts",
                 "4-declined", "declined", ("START",),
                 "names the firm, the masked number and how to start again",
                 ("opted_out", "email_decline"))


def choose(checks: Checks, driver, base: str, out: Path, axe_source: str, person: tuple,
           choice: Choice) -> str:
    """Opens `person`'s link from the outbox, checks the form, presses `choice`'s button and
    checks the page after it and the record; returns the person's phone."""
    _, _, phone, email, _ = person
    link = confirmation_link(base, email)
    print(f"\n{choice.action}: {link[: len(base) + 20]}...")
    open_link(checks, driver, base, link, phone, choice.action)
    print(f"  screenshot {screenshot(driver, out, choice.form_shot)}")
    check_form(checks, driver, person, link, choice.form_what)
    check_page_quality(checks, driver, axe_source, choice.form_what)
    press(driver, choice.action, choice.title)
    print(f"  screenshot {screenshot(driver, out, choice.done_shot)}")
    text = body_text(driver)
    checks.check(
        FIRM in text and masked(phone) in text and all(w in text for w in choice.words),
        f"{choice.done}: {choice.said}",
        text,
    )
    record = consent(base, phone)
    status, basis = choice.expected
    checks.check(
        (record["status"], record["basis"]) == choice.expected,
        f"{choice.done}: the record is {status}, basis {basis}",
        (record["status"], record["basis"]),
    )
    check_page_quality(checks, driver, axe_source, choice.done)
    return phone


def run(args, checks: Checks, out: Path, work: str) -> None:
    server, base = start_server(args.server, f"{work}/data", out / "server.log")
    driver = None
    try:
        expect(base, "POST", "/dev/clock", {"now": DAYTIME}, 200)
        # The demo firm has no privacy policy or terms; a real firm sets both.
        firm = expect(base, "GET", "/v1/firms/demo", None, 200)
        settings = {
            k: firm[k] for k in ["name", "sms_number", "support_email", "support_phone", "website"]
        }
        expect(
            base,
            "PUT",
            "/v1/firms/demo",
            {**settings, "privacy_url": PRIVACY_URL, "terms_url": TERMS_URL},
            200,
        )
        people = [
            ("c1", "(415) 555-0134", "+14155550134", "alice@example.com", "Alice"),
            ("c2", "(415) 555-0177", "+14155550177", "bob@example.com", "Bob"),
        ]
        for contact_id, typed, _, email, name in people:
            created = expect(
                base,
                "POST",
                "/v1/firms/demo/contacts",
                {"contact_id": contact_id, "phone": typed, "email": email, "first_name": name},
                201,
            )
            checks.check(
                created["consent"]["status"] == "pending", f"{contact_id} created, pending"
            )

        driver = start_browser(args.chromium, args.chromedriver, f"{work}/profile")

        # Alice confirms, Bob declines.
        choose(checks, driver, base, out, args.axe_source, people[0], CONFIRM)
        phone = choose(checks, driver, base, out, args.axe_source, people[1], DECLINE)
        sms_to_bob = [
            s for s in expect(base, "GET", "/dev/outbox", None, 200)["sms"] if s["to"] == phone
        ]
        checks.check(
            len(sms_to_bob) == 1, "declined: nothing more was texted (only the opt-in request)",
            sms_to_bob,
        )

        # The console check above must be able to fail: a style the CSP does not allow, added
        # to the page, has to show up in it.
        print("\ncontrol: a style the CSP does not name")
        driver.execute_script(
            "const s = document.createElement('style');"
            "s.textContent = 'body{background:red}'; document.head.appendChild(s);"
        )
        time.sleep(0.2)
        problems = console_problems(driver)
        print("\n".join(f"       {p}" for p in problems))
        events = [p for p in problems if p.startswith("CSP violation: ")]
        logged = [p for p in problems if p not in events]
        checks.check(
            any("style-src" in p for p in logged),
            "control: a refused style shows in the console log",
            problems,
        )
        checks.check(
            any("style-src" in p for p in events),
            "control: a refused style raises a securitypolicyviolation event",
            problems,
        )
        background = driver.execute_script(
            "return getComputedStyle(document.body).backgroundColor"
        )
        checks.check(
            background != "rgb(255, 0, 0)", "control: the browser refused it", background
        )
        # And the axe check: a text field with no label is a critical violation.
        print("control: a text field with no label")
        driver.execute_script(
            "document.querySelector('main').appendChild(document.createElement('input'))"
        )
        bad = serious_axe_violations(driver, args.axe_source)
        checks.check("label" in bad, "control: axe-core reports the unlabelled field", bad)
    finally:
        if driver is not None:
            driver.quit()
        server.kill()
        server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", required=True, help="the consent-local binary")
    parser.add_argument("--axe", required=True, help="axe-core's axe.min.js")
    parser.add_argument("--out", required=True, help="where the screenshots go")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    args = parser.parse_args()
    for path in [args.server, args.axe, args.chromium, args.chromedriver]:
        if not os.path.isfile(path):
            print(f"browser test: {path} is missing", file=sys.stderr)
            return 1
    args.axe_source = Path(args.axe).read_text()

    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    checks = Checks()
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="consent-browser-") as work:
        try:
            run(args, checks, out, work)
        except Exception:
            traceback.print_exc()
            checks.failed.append("the run itself (see the traceback above)")
    print(f"\nscreenshots and the server's log: {out}")
    print(f"browser test took {time.monotonic() - started:.1f} s")
    print(f"{checks.passed} passed, {len(checks.failed)} failed")
    for what in checks.failed:
        print(f"  failed: {what}", file=sys.stderr)
    return 1 if checks.failed or checks.passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
