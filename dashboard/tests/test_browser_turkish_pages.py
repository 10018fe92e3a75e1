"""In real Chromium, a Turkish-speaking manager walks the pages of a working day (call list,
contacts, a contact, KPIs, imports, follow-ups, campaigns, support cases) at a desktop width
and a phone width. Each page must answer without a server error, fit the window (no sideways
scrolling), hold no English in its main content and write percentages the Turkish way ("%43",
never "43%"). Screenshots go to test-artifacts/."""
import datetime as dt

import pytest
from playwright.sync_api import expect
from django.urls import reverse
from django.utils import timezone

from crm.tests.browser import log_in, problems_on, screenshot
from customers.models import ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = {"desktop": 1400, "phone": 390}


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
