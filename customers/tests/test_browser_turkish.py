"""In real Chromium: a sales user switches the CRM to Turkish from the menu bar and walks the
pages they use every day without meeting English."""
import pytest

from accounts.models import User
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Words a Turkish user must not meet on these pages (navigation, headings, buttons, stages).
ENGLISH = ["Contacts", "Today", "My follow-ups", "KPIs", "Log out", "Who to call today",
           "Purchase history", "Record purchase", "Record a purchase", "Total spent",
           "Last purchase", "One-time buyer", "Repeat client", "Follow-ups", "Notes", "Search",
           "No data yet", "Language", "Change", "Nobody"]


def english_on(page) -> list[str]:
    text = page.locator("body").inner_text()
    return [word for word in ENGLISH if word in text]


def test_a_sales_user_switches_to_turkish_and_sees_no_english(page, sales_user):
    buyer = ContactFactory(first_name="Ayşe", last_name="Yılmaz")
    record_purchase(buyer, days_ago=40, amount="40.00")
    record_purchase(buyer, days_ago=5, amount="25.50")

    log_in(page, "sally")
    page.get_by_label("Language").select_option("tr")
    follow(page, page.get_by_role("button", name="Change"))

    expect(page.get_by_role("heading", name="Bugün kimi aramalı")).to_be_visible()
    assert page.locator("html").get_attribute("lang") == "tr"
    assert english_on(page) == []
    screenshot(page, "tr-today")

    follow(page, page.get_by_role("link", name="Kişiler", exact=True))
    expect(page.get_by_role("heading", name="Kişiler")).to_be_visible()
    assert english_on(page) == []
    screenshot(page, "tr-contact-list")

    follow(page, page.get_by_role("link", name="Ayşe Yılmaz"))
    assert page.get_by_test_id("stage").inner_text() == "Tekrar eden müşteri"
    expect(page.get_by_role("heading", name="Satın alma geçmişi")).to_be_visible()
    assert english_on(page) == []
    screenshot(page, "tr-contact-detail")

    follow(page, page.get_by_role("link", name="Takip görevlerim"))
    assert english_on(page) == []
    screenshot(page, "tr-my-follow-ups")

    follow(page, page.get_by_role("link", name="KPI'lar"))
    expect(page.get_by_role("heading", name="KPI'lar")).to_be_visible()
    assert english_on(page) == []
    screenshot(page, "tr-kpis")

    assert User.objects.get(pk=sales_user.pk).language == "tr"
