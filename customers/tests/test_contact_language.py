"""A contact's language: set by staff (form, admin), shown on the contact page, taken from the
public support form for a new contact, included in the privacy export."""
import time

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers.language import activate_contact_language, contact_language, supported_language
from customers.models import Contact
from customers.services.contacts import contact_create, contact_update
from customers.tests.factories import ContactFactory
from privacy.services import contact_export
from support.public import _SALT

pytestmark = pytest.mark.django_db


def _create(client, **overrides):
    data = {"email": "new@example.com", "first_name": "Can", "last_name": "Demir", "phone": "",
            "language": "tr", **overrides}
    return client.post(reverse("dashboard:contact_create"), data)


def test_staff_create_a_contact_with_a_language(sales_client):
    response = _create(sales_client)

    assert response.status_code == 302
    assert Contact.objects.get().language == "tr"


def test_the_language_may_be_left_to_the_shop_default(sales_client):
    _create(sales_client, language="")

    assert Contact.objects.get().language == ""


def test_an_unknown_language_is_refused_on_the_form(sales_client):
    response = _create(sales_client, language="xx")

    assert response.status_code == 200
    assert response.context["form"].errors["language"] == [
        "Select a valid choice. xx is not one of the available choices."]
    assert not Contact.objects.exists()


def test_the_contact_page_shows_the_language(sales_client):
    turkish, unset = ContactFactory(language="tr"), ContactFactory(language="")

    turkish_page = sales_client.get(reverse("dashboard:contact_detail", args=[turkish.pk]),
                                    HTTP_ACCEPT_LANGUAGE="en")
    unset_page = sales_client.get(reverse("dashboard:contact_detail", args=[unset.pk]),
                                  HTTP_ACCEPT_LANGUAGE="en")

    assert '<dd class="col-7" data-testid="contact-language">Turkish</dd>' in \
        turkish_page.content.decode()
    assert '<dd class="col-7" data-testid="contact-language">Shop default</dd>' in \
        unset_page.content.decode()


def test_services_set_and_validate_the_language():
    contact = contact_create(email="a@example.com", language="tr")
    assert contact.language == "tr"

    contact_update(contact=contact, language="en")
    assert Contact.objects.get(pk=contact.pk).language == "en"

    with pytest.raises(ValidationError) as error:
        contact_update(contact=contact, language="de")
    assert list(error.value.message_dict) == ["language"]
    assert Contact.objects.get(pk=contact.pk).language == "en"


def test_admin_changes_the_language(admin_client):
    contact = ContactFactory(email="ada@example.com", first_name="Ada", last_name="L")
    url = reverse("admin:customers_contact_change", args=[contact.pk])

    response = admin_client.post(url, {
        "email": contact.email, "first_name": "Ada", "last_name": "L", "phone": "",
        "owner": "", "language": "tr", "purchases-TOTAL_FORMS": "0",
        "purchases-INITIAL_FORMS": "0", "purchases-MIN_NUM_FORMS": "0",
        "purchases-MAX_NUM_FORMS": "0"})

    assert response.status_code == 302
    assert Contact.objects.get(pk=contact.pk).language == "tr"


def test_the_privacy_export_holds_the_language():
    assert contact_export(ContactFactory(language="tr"))["contact"]["language"] == "tr"


@pytest.mark.parametrize(("stored", "expected"), [("tr", "tr"), ("en", "en"), ("", "en"),
                                                  ("de", "en")])
def test_contact_language_falls_back_to_the_default(stored, expected):
    assert contact_language(Contact(language=stored)) == expected


def test_supported_language_maps_browser_codes():
    assert [supported_language(code) for code in ("tr-TR", "en-gb", "de", "", None)] == [
        "tr", "en", "", "", ""]


def test_a_blank_contact_leaves_the_browsers_language(rf):
    from django.utils import translation

    request = rf.get("/")
    translation.activate("tr")
    activate_contact_language(request, Contact(language=""))
    assert translation.get_language() == "tr"
    activate_contact_language(request, Contact(language="en"))
    assert (translation.get_language(), request.LANGUAGE_CODE) == ("en", "en")


# --- The public support form -----------------------------------------------------------------

def _support_post(client, browser: str, email: str):
    cache.clear()
    return client.post(reverse("support:public_case"), {
        "email": email, "name": "Ayşe Yılmaz", "subject": "Fermuar", "message": "Bozuldu.",
        "website": "", "started": signing.dumps(time.time() - 10, salt=_SALT)},
        HTTP_ACCEPT_LANGUAGE=browser)


@pytest.mark.parametrize(("browser", "expected"), [("tr-TR,tr;q=0.9", "tr"), ("en-US", "en")])
def test_a_new_contact_from_the_support_form_gets_the_pages_language(client, browser, expected):
    response = _support_post(client, browser, "ayse@example.com")

    assert response.status_code == 200
    assert Contact.objects.get(email="ayse@example.com").language == expected


def test_the_support_form_does_not_change_an_existing_contacts_language(client):
    ContactFactory(email="ayse@example.com", language="")

    _support_post(client, "tr", "ayse@example.com")

    assert Contact.objects.get(email="ayse@example.com").language == ""


def test_a_contact_without_a_language_gets_the_shops_default(settings):
    """contact_language (campaign and support emails) and consent_language (the consent
    wording) both ask customers.language.default_language, the one place a shop setting for
    the default replaces settings.LANGUAGE_CODE."""
    from customers.consent.services import consent_language
    from customers.language import default_language

    settings.LANGUAGE_CODE = "tr"
    assert default_language() == "tr"
    blank, english = ContactFactory.build(language=""), ContactFactory.build(language="en")

    assert contact_language(blank) == "tr" and contact_language(english) == "en"
    assert consent_language(blank) == "tr" and consent_language(None) == "tr"
    assert consent_language(english) == "en"
