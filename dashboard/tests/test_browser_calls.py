"""In real Chromium: the call-first contact page on a phone and a desktop, and a call logged
from the call list in two taps."""
import pytest
from django.utils import timezone
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from customers.models import CallLog, ContactScore, ScoringRun
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def turkish_shop(settings):
    settings.CRM_PHONE_REGION = "TR"


def _scored(contact, p_buy: float = 0.45) -> None:
    run = ScoringRun.objects.filter(status="succeeded").first() or ScoringRun.objects.create(
        trigger="command", as_of=timezone.localdate(), horizon_days=90,
        status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now())
    ContactScore.objects.create(
        run=run, contact=contact, scored_at=timezone.now(), p_buy_again=p_buy, p_alive=1.0,
        expected_purchases=p_buy, expected_value=20, predicted_value_12m=40,
        frequency=0, recency_days=0, age_days=60)


@pytest.mark.parametrize("width", [390, 1400])
def test_the_contact_page_opens_on_who_and_how_to_call(page, sales_user, width):
    contact = ContactFactory(first_name="Ayla", last_name="Demir", phone="+905321234567",
                             email="ayla.demir@example.com", owner=sales_user)
    record_purchase(contact, days_ago=30, amount="40.00")
    _scored(contact)
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, "sally")
    page.goto(f"/contacts/{contact.pk}/")

    phone = page.get_by_test_id("phone-link")
    expect(phone).to_have_text("0532 123 45 67")
    expect(phone).to_have_attribute("href", "tel:+905321234567")
    expect(page.get_by_test_id("whatsapp-link")).to_have_attribute(
        "href", "https://wa.me/905321234567")
    expect(page.get_by_test_id("email-link")).to_have_attribute(
        "href", "mailto:ayla.demir@example.com")
    expect(page.get_by_test_id("header-likelihood")).to_contain_text("45%")
    # All of it in the first screen, nothing focused, nothing wider than the screen.
    for locator in (phone, page.get_by_test_id("header-likelihood"),
                    page.get_by_test_id("header-follow-ups"),
                    page.get_by_role("link", name="Record a purchase")):
        box = locator.bounding_box()
        assert box is not None and box["y"] + box["height"] <= 844
    assert page.evaluate("document.activeElement === document.body")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"contact-call-first-{width}")

    follow(page, page.get_by_role("link", name="Record a purchase"))
    expect(page.get_by_label("Amount")).to_be_focused()


@pytest.mark.parametrize("width", [390, 1400])
def test_a_call_logged_from_the_call_list_leaves_it_and_is_on_the_timeline(page, sales_user,
                                                                          width):
    contact = ContactFactory(first_name="Ayla", last_name="Demir", phone="+905321234567",
                             owner=sales_user)
    record_purchase(contact, days_ago=30, amount="40.00")
    _scored(contact)
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, "sally")

    convert = page.get_by_test_id("call-convert")
    expect(convert.get_by_role("link", name="Ayla Demir")).to_be_visible()
    expect(convert.get_by_role("link", name="0532 123 45 67")).to_have_attribute(
        "href", "tel:+905321234567")
    expect(page.get_by_test_id("calls-this-week")).to_contain_text("0 calls this week")
    assert page.evaluate("document.documentElement.scrollWidth") <= width

    convert.get_by_text("Log a call").click()  # tap 1: open
    convert.get_by_label("Note").fill("Asked about sizes")
    screenshot(page, f"call-list-log-a-call-{width}")
    follow(page, convert.get_by_role("button", name="Call back later"))  # tap 2: the outcome

    expect(page.get_by_role("status").first).to_contain_text("Call with")
    expect(page.get_by_test_id("call-convert").get_by_role("link", name="Ayla Demir")
           ).to_have_count(0)
    expect(page.get_by_test_id("calls-this-week")).to_contain_text("1 call this week")
    assert CallLog.objects.get().outcome == "call_back"

    page.goto(f"/contacts/{contact.pk}/")
    entry = page.get_by_test_id("timeline").locator('[data-kind="call"]')
    expect(entry).to_contain_text("Call back later")
    expect(entry).to_contain_text("Asked about sizes")
    screenshot(page, f"contact-timeline-call-{width}")


def test_a_call_logged_from_the_contact_page_with_a_next_date(page, sales_user):
    contact = ContactFactory(first_name="Ayla", last_name="Demir", phone="+905321234567")
    page.set_viewport_size({"width": 390, "height": 844})
    log_in(page, "sally")
    page.goto(f"/contacts/{contact.pk}/")

    header = page.get_by_test_id("contact-header")
    header.get_by_text("Log a call").click()
    header.get_by_label("Next follow-up (optional)").fill("2099-01-15")
    follow(page, header.get_by_role("button", name="Reached"))

    assert page.url.endswith(f"/contacts/{contact.pk}/")
    expect(page.get_by_test_id("timeline").locator('[data-kind="call"]')).to_contain_text(
        "Reached")
    expect(page.get_by_test_id("header-follow-ups")).to_have_text("1")
    expect(page.get_by_test_id("follow-ups")).to_contain_text("Call again")
