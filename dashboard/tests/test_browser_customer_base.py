"""In real Chromium: a manager opens the customer-base page from the navigation; it draws its
grids and chart with no Content Security Policy complaint."""
import pytest
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from customers.tests.factories import ContactFactory, record_purchase
from dashboard.customer_base import customer_base_refresh

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_reads_the_customer_base(page, manager):
    for number, days_agos in enumerate([(200, 100, 10), (120,), (95, 40), (5,)]):
        contact = ContactFactory(email=f"buyer{number}@example.com")
        for days_ago in days_agos:
            record_purchase(contact, days_ago=days_ago, amount="30.00")
    customer_base_refresh()
    complaints = []
    page.on("console", lambda message: complaints.append(message.text)
            if "Content Security Policy" in message.text else None)

    log_in(page, "marta")
    follow(page, page.get_by_role("link", name="Customer base"))

    expect(page.get_by_role("heading", name="Customer base", exact=True)).to_be_visible()
    expect(page.get_by_test_id("cohorts").locator("tbody tr").first).to_be_visible()
    assert page.get_by_test_id("rfm").locator("tbody tr").count() == 5
    assert complaints == []
    screenshot(page, "customer-base")
