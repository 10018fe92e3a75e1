"""In real Chromium: the call list, a note and a follow-up on a contact, and the KPI charts."""
import pytest
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_note_follow_up_and_kpis(page, sales_user):
    contact = ContactFactory(first_name="Deniz", last_name="Kaya", owner=sales_user)
    record_purchase(contact, days_ago=12, amount="80.00")

    log_in(page, "sally")
    follow(page, page.get_by_role("link", name="Contacts", exact=True))
    follow(page, page.get_by_role("link", name="Deniz Kaya"))
    page.get_by_placeholder("Add a note for colleagues").fill("Asked about gift wrapping")
    follow(page, page.get_by_role("button", name="Add note"))
    assert "Asked about gift wrapping" in page.get_by_test_id("notes").inner_text()
    page.get_by_placeholder("What to do").fill("Call back about wrapping")
    follow(page, page.get_by_role("button", name="Add", exact=True))
    assert "Call back about wrapping" in page.get_by_test_id("follow-ups").inner_text()
    screenshot(page, "contact-notes-follow-ups")

    follow(page, page.get_by_role("link", name="My follow-ups"))
    follow(page, page.get_by_role("button", name="Done"))
    assert page.get_by_role("status").first.inner_text() == "Marked done."

    follow(page, page.get_by_role("link", name="KPIs"))
    assert page.locator("svg.crm-chart").count() >= 5
    screenshot(page, "kpis")


def test_the_call_list_fits_a_phone(page, sales_user):
    page.set_viewport_size({"width": 390, "height": 844})

    log_in(page, "sally")

    expect(page.get_by_role("heading", name="Who to call today")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    screenshot(page, "today-phone")


@pytest.mark.parametrize("width", [390, 1400])
def test_the_follow_up_date_box_shows_the_whole_date(page, sales_user, width):
    contact = ContactFactory(first_name="Deniz", last_name="Kaya", owner=sales_user)
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, "sally")
    page.goto(f"/contacts/{contact.pk}/")

    due = page.locator("#id_due_on")
    expect(due).to_be_visible()
    # "12/08/2026" and the picker icon need about 130 px; it was cut to "12/08/202".
    assert due.evaluate("element => element.getBoundingClientRect().width") >= 140
    screenshot(page, f"follow-up-form-{width}")
