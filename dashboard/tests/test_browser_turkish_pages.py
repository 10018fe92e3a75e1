"""In real Chromium, a Turkish-speaking manager walks the pages of a working day (call list,
contacts, a contact, KPIs, imports, follow-ups, campaigns, support cases) at a desktop width
and a phone width. Each page must answer without a server error, fit the window (no sideways
scrolling), hold no English in its main content and write percentages the Turkish way ("%43",
never "43%"). Screenshots go to test-artifacts/."""
import datetime as dt
import re
from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import expect
from babel.messages.pofile import read_po
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from crm.tests.browser import log_in, screenshot
from customers.models import ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1400, "phone": 390}
# Words that are the same in both languages or are names the page shows as data.
ALLOWED = {"crm", "kpi", "nps", "csv", "utf", "email", "phone", "language", "first_name",
           "last_name", "marketing_consent", "purchased_at", "amount", "currency", "external_id",
           "channel", "items", "coupon_code", "referral_code", "model", "webhook", "admin",
           "example", "com", "demo", "ayşe", "yılmaz", "mehmet", "kaya", "marta", "sally",
           "bgnbd", "nbd", "pareto", "uplift", "holdout", "sms", "web", "online", "api"}
# "3%", "12,5 %": a percent sign after the number is English order, wrong in Turkish.
ENGLISH_PERCENT = re.compile(r"\d(?:[.,]\d+)?[ \u00a0]?%")
# Shop data, not interface: the names of the campaigns and templates a shop was set up with
# (the shipped defaults are named in English) are left out of the English check.
# The contact list's bulk bar offers the campaigns by name: data too.
DATA = "#result_list tbody th, #result_list tbody td.field-template, #bulk-campaign"


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


@pytest.fixture
def shop(manager):
    """A small Turkish shop: a scored one-time buyer worth calling, a repeat client with a
    follow-up and an open case, a campaign."""
    from campaigns.tests.factories import CampaignFactory
    from customers.followups import follow_up_add
    from support.services import case_open

    manager.language = "tr"
    manager.save(update_fields=["language"])
    once = ContactFactory(first_name="Ayşe", last_name="Yılmaz", owner=manager)
    record_purchase(once, days_ago=30, amount="1250.00")
    loyal = ContactFactory(first_name="Mehmet", last_name="Kaya", owner=manager)
    for days_ago in (300, 200, 100):
        record_purchase(loyal, days_ago=days_ago, amount="80.00")
    run = ScoringRun.objects.create(trigger="command", as_of=timezone.localdate(),
                                    horizon_days=90, status="succeeded", publish=True,
                                    finished_at=timezone.now())
    for contact, p_buy, p_alive, frequency in ((once, 0.43, 0.9, 0), (loyal, 0.2, 0.3, 2)):
        ContactScore.objects.create(
            run=run, contact=contact, scored_at=timezone.now(), p_buy_again=p_buy,
            p_alive=p_alive, expected_purchases=0.5, expected_value=60,
            predicted_value_12m=120, frequency=frequency, recency_days=30, age_days=300)
    follow_up_add(contact=loyal, assigned_to=manager, title="Yeni sezonu anlat",
                  due_on=timezone.localdate())
    case_open(contact=loyal, subject="Kargo gecikti", channel="phone",
              now=timezone.now() - dt.timedelta(days=5))
    CampaignFactory(name="Tek seferlik alıcıları geri kazan")
    return {"once": once, "loyal": loyal}


def test_a_turkish_manager_walks_the_pages_without_english_overflow_or_3_percent(
        page, shop, manager):
    from dashboard.kpis import kpis_refresh

    kpis_refresh()
    pages = {
        "today": reverse("dashboard:today"),
        "contacts": reverse("dashboard:contact_list"),
        "contact": reverse("dashboard:contact_detail", args=[shop["once"].pk]),
        "repeat-client": reverse("dashboard:contact_detail", args=[shop["loyal"].pk]),
        "kpis": reverse("dashboard:kpis"),
        "imports": reverse("customers:import_list"),
        "follow-ups": reverse("dashboard:my_follow_ups"),
        "campaigns": reverse("admin:campaigns_campaign_changelist"),
        "cases": reverse("support:my_cases"),
    }
    log_in(page, "marta")
    found = {}
    for size, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        for name, url in pages.items():
            response = page.goto(url)
            assert page.locator("html").get_attribute("lang") == "tr", name
            if problems := problems_on(page, response):
                found[f"{name} @ {width}px"] = problems
            screenshot(page, f"tr-walk-{name}-{size}")
    assert found == {}, "\n".join(f"{where}: {what}" for where, what in found.items())

    # The call list and the contact page really show a score, written the Turkish way.
    page.set_viewport_size({"width": WIDTHS["desktop"], "height": 900})
    page.goto(pages["contact"])
    assert page.get_by_test_id("p-buy-again").inner_text() == "%43"
    expect(page.get_by_role("button", name="Talep aç")).to_be_visible()  # a verb, not "Açık"
    expect(page.get_by_role("link", name="İçe aktarma", exact=True)).to_be_visible()
    page.goto(pages["today"])
    assert "%43" in page.locator("main").inner_text()
