"""In real Chromium: a salesperson fixes a contact's name, phone, language and consent on the
edit page, on a phone and a desktop, and the contact page shows the new details after saving."""
import pytest
from playwright.sync_api import expect

from crm.tests.browser import follow, log_in, screenshot
from customers.consent.models import ConsentRecord
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def turkish_shop(settings):
    settings.CRM_PHONE_REGION = "TR"


@pytest.mark.parametrize("width", [390, 1400])
def test_a_salesperson_fixes_name_phone_language_and_consent(page, sales_user, width):
    contact = ContactFactory(first_name="Aysel", last_name="Demirr", phone="+905321234567",
                             language="en", marketing_consent=False, owner=sales_user)
    page.set_viewport_size({"width": width, "height": 844})
    log_in(page, "sally")
    page.goto(f"/contacts/{contact.pk}/")

    follow(page, page.get_by_role("link", name="Edit contact"))
    expect(page.get_by_role("heading", name="Edit contact")).to_be_visible()
    form = page.locator("main")  # the menu bar has a language menu of its own
    form.get_by_label("First name").fill("Ayla")
    form.get_by_label("Last name").fill("Demir")
    form.get_by_label("Phone").fill("0532 765 43 21")
    form.get_by_label("Language").select_option("tr")
    form.get_by_label("Agrees to receive marketing email").check()
    form.get_by_label("How was consent given?").select_option("request")
    form.get_by_label("Evidence").fill("Asked on the phone")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    screenshot(page, f"contact-edit-{width}")
    follow(page, page.get_by_role("button", name="Save changes"))

    expect(page.get_by_role("heading", name="Ayla Demir")).to_be_visible()
    phone = page.get_by_test_id("phone-link")
    expect(phone).to_have_text("0532 765 43 21")
    expect(phone).to_have_attribute("href", "tel:+905327654321")
    expect(page.get_by_test_id("contact-language")).to_have_text("Turkish")
    expect(page.locator("dt", has_text="Marketing consent").locator("+ dd")).to_have_text("Yes")
    screenshot(page, f"contact-edited-{width}")
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.phone, contact.language,
            contact.marketing_consent) == ("Ayla", "Demir", "+905327654321", "tr", True)
    assert ConsentRecord.objects.get(contact=contact).evidence == "Asked on the phone"

    # Back on the edit page, the form holds what was saved.
    follow(page, page.get_by_role("link", name="Edit contact"))
    form = page.locator("main")
    expect(form.get_by_label("First name")).to_have_value("Ayla")
    expect(form.get_by_label("Phone")).to_have_value("+905327654321")
    expect(form.get_by_label("Language")).to_have_value("tr")
    expect(form.get_by_label("Agrees to receive marketing email")).to_be_checked()
    assert Contact.objects.count() == 1
