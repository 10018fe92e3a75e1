"""In real Chromium: a sales user finds a contact and records the purchase that makes them a
repeat client."""
import pytest
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sales_user_records_a_second_purchase_and_sees_a_repeat_client(page, sales_user):
    buyer = ContactFactory(email="ayse.yilmaz@example.com", first_name="Ayşe", last_name="Yılmaz")
    record_purchase(buyer, days_ago=30, amount="40.00")
    ContactFactory(email="someone.else@example.com")

    log_in(page, "sally")
    expect(page.get_by_role("heading", name="Who to call today")).to_be_visible()
    screenshot(page, "today")
    follow(page, page.get_by_role("link", name="Contacts", exact=True))
    page.get_by_label("Search").first.fill("yilmaz")
    follow(page, page.get_by_role("button", name="Search"))
    screenshot(page, "contact-list")
    follow(page, page.get_by_role("link", name="Ayşe Yılmaz"))
    assert page.get_by_test_id("stage").inner_text() == "One-time buyer"

    follow(page, page.get_by_role("link", name="Record a purchase"))
    page.get_by_label("Amount").fill("25.50")
    follow(page, page.get_by_role("button", name="Record purchase"))

    assert page.get_by_test_id("stage").inner_text() == "Repeat client"
    assert page.get_by_test_id("purchase-count").inner_text() == "2"
    assert page.get_by_role("status").first.inner_text() == "Purchase recorded."
    screenshot(page, "contact-detail")


def test_bad_amount_shows_an_error_and_records_nothing(page, sales_user):
    buyer = ContactFactory(first_name="Can", last_name="Demir")

    log_in(page, "sally")
    page.goto(f"/contacts/{buyer.pk}/")
    follow(page, page.get_by_role("link", name="Record a purchase"))
    page.get_by_label("Currency").fill("XYZ")
    page.get_by_label("Amount").fill("10")
    follow(page, page.get_by_role("button", name="Record purchase"))

    assert "Unknown currency XYZ" in page.content()
    buyer.refresh_from_db()
    assert buyer.purchase_count == 0
    screenshot(page, "purchase-error")


def test_anonymous_visitor_is_sent_to_the_login_page(page):
    page.goto("/contacts/")

    assert "/login/" in page.url
    screenshot(page, "login")
