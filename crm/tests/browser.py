"""Playwright on the system's Chromium (Debian package); never a downloaded browser."""
import os
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings

from conftest import BROWSER_PATH

ARTIFACTS = Path(os.environ.get("CRM_TEST_ARTIFACTS", "test-artifacts"))
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    # Playwright's sync API runs an event loop in this thread; Django's ORM in the same thread
    # is then only safe because the test code never awaits. See Django's async safety docs.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=BROWSER_PATH, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def log_in(page, username: str, password: str = "correct-horse-battery") -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    follow(page, page.get_by_role("button", name="Log in"))


def follow(page, locator) -> None:
    """Click a link or submit button and wait until the next page has loaded: a bare click
    returns once the navigation starts, and reads made then can see the old or half page."""
    with page.expect_navigation():
        locator.click()


# --- Untranslated text, sideways scrolling, English percentages: a page's problems ------------
# (shared by the Turkish walks: dashboard/tests/test_browser_turkish_pages.py, test_browser_walk.py)

# Words that are the same in both languages or are names the page shows as data.
ALLOWED = {"crm", "kpi", "nps", "csv", "utf", "email", "phone", "language", "first_name",
           "last_name", "marketing_consent", "purchased_at", "amount", "currency", "external_id",
           "channel", "items", "coupon_code", "referral_code", "model", "webhook", "admin",
           "example", "com", "demo", "ayşe", "yılmaz", "mehmet", "kaya", "marta", "sally",
           "bgnbd", "nbd", "pareto", "uplift", "holdout", "sms", "web", "online", "api"}
# "3%", "12,5 %": a percent sign after the number is English order, wrong in Turkish.
ENGLISH_PERCENT = re.compile(r"\d(?:[.,]\d+)?[ \u00a0]?%")
# Shop data, not interface: the names of the campaigns and templates a shop was set up with
# (the shipped defaults are named in English) and the text of a sent email as its recipient
# reads it (their language, their links) are left out of the English check.
# The contact list's bulk bar offers the campaigns by name: data too.
DATA = ("#result_list tbody th, #result_list tbody td.field-template, .crm-email-text, "
        "#bulk-campaign")


@cache
def english_words() -> frozenset[str]:
    """Words of the English msgids that no Turkish translation uses: meeting one in a Turkish
    page means a string escaped translation."""
    po = Path(settings.BASE_DIR) / "locale" / "tr" / "LC_MESSAGES" / "django.po"
    with po.open("rb") as source:
        catalog = read_po(source)
    words = lambda text: set(re.findall(r"[a-zçğıöşü]{4,}", text.lower()))  # noqa: E731 - a one-line reader, local to the test
    english, turkish = set(), set()
    for message in catalog:
        if not message.id:
            continue
        for text in (message.id if isinstance(message.id, tuple) else (message.id,)):
            english |= words(re.sub(r"%\(\w+\)s|\{[^}]*\}", " ", text))
        for text in (message.string if isinstance(message.string, tuple) else (message.string,)):
            turkish |= words(text or "")
    return frozenset(english - turkish - ALLOWED)


def problems_on(page, response) -> list[str]:
    found = []
    if response is None or response.status >= 500:
        found.append(f"server error {response and response.status}")
    if page.evaluate("document.documentElement.scrollWidth > window.innerWidth + 1"):
        found.append("wider than the window: "
                     + str(page.evaluate("document.documentElement.scrollWidth")))
    main = page.locator("main, #content").first
    text = main.inner_text()
    interface = main.evaluate("""(main, data) => {
        const copy = main.cloneNode(true);
        copy.querySelectorAll(data).forEach((cell) => cell.remove());
        return copy.textContent;
    }""", DATA)
    left = sorted({word for word in re.findall(r"[A-Za-zÇĞİÖŞÜçğıöşü]{4,}", interface)
                   if word.lower() in english_words()})
    if left:
        found.append(f"English: {left}")
    svg_text = "\n".join(text or "" for text in main.locator("svg text").all_text_contents())
    wrong = ENGLISH_PERCENT.findall(text + "\n" + svg_text)
    if wrong:
        found.append(f"percent written the English way: {wrong}")
    return found
