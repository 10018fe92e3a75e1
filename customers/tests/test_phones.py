"""Phone numbers: one rule (customers.phones) at every door, stored in E.164."""
import io

import pytest
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.urls import reverse

from api.tests.helpers import token_client
from customers.imports.contacts import contacts_import_csv
from customers.models import Contact
from customers.phones import (
    example_phone, format_national, normalise_phone, tel_uri, whatsapp_url,
)


@pytest.fixture(autouse=True)
def turkish_shop(settings):
    settings.CRM_PHONE_REGION = "TR"


# --- The rule -------------------------------------------------------------------------------

@pytest.mark.parametrize("typed", [
    "+90 532 123 45 67", "0532 123 45 67", "532 123 45 67", "(0532) 123-45-67",
    "0090 532 123 45 67", "+90.532.123.45.67", "  +90\u00a0532 123 45 67 ", "05321234567",
])
def test_what_people_type_is_stored_in_e164(typed):
    assert normalise_phone(typed) == "+905321234567"


def test_a_number_abroad_keeps_its_country():
    assert normalise_phone("+49 30 1234567") == "+49301234567"


def test_a_number_without_country_code_is_in_the_shops_country(settings):
    settings.CRM_PHONE_REGION = "de"

    assert normalise_phone("030 1234567") == "+49301234567"


def test_blank_is_no_number():
    assert normalise_phone("  ") == ""


@pytest.mark.parametrize("typed", [
    "not a phone!!", "call me", "123456", "555 0101", "+90 532 123 45 678",
    "0800-FLOWERS",  # letters would be read as keypad digits
    "٠٥٣٢١٢٣٤٥٦٧",  # Arabic-Indic digits: refused like amounts, not silently converted
    "0532 123 45 67 ext. 5", "+" + "1" * 40, "0532\x00123 45 67",
])
def test_what_is_not_a_phone_number_is_refused_with_an_example(typed):
    with pytest.raises(ValidationError) as refused:
        normalise_phone(typed)

    assert refused.value.code == "invalid_phone"
    assert "+90 501 234 56 78" in refused.value.messages[0]


def test_an_unknown_region_is_a_configuration_error(settings):
    settings.CRM_PHONE_REGION = "XX"

    with pytest.raises(ImproperlyConfigured):
        normalise_phone("0532 123 45 67")


def test_the_example_follows_the_region(settings):
    settings.CRM_PHONE_REGION = "GB"

    assert example_phone().startswith("+44 ")


def test_a_stored_number_is_shown_and_linked():
    assert format_national("+905321234567") == "0532 123 45 67"
    assert format_national("+49301234567") == "+49 30 1234567"  # abroad: internationally
    assert tel_uri("+905321234567") == "tel:+905321234567"
    assert whatsapp_url("+905321234567") == "https://wa.me/905321234567"


def test_a_number_stored_before_e164_is_shown_as_it_is_and_not_linked():
    assert format_national("555 1234") == "555 1234"
    assert (tel_uri("555 1234"), whatsapp_url("555 1234"), tel_uri("")) == ("", "", "")


# --- Every door -----------------------------------------------------------------------------

@pytest.fixture
def sales_api(sales_user):
    return token_client(sales_user)


@pytest.fixture
def doors(sales_client, admin_client, sales_api):
    """Each door adds a contact with an email and a phone as typed, and returns what it said."""
    def dashboard(email, phone):
        return sales_client.post(reverse("dashboard:contact_create"),
                                 {"email": email, "phone": phone}).content.decode()

    def admin(email, phone):
        return admin_client.post(reverse("admin:customers_contact_add"), {
            "email": email, "first_name": "", "last_name": "", "phone": phone, "owner": "",
            "language": "", "purchases-TOTAL_FORMS": "0", "purchases-INITIAL_FORMS": "0",
            "purchases-MIN_NUM_FORMS": "0", "purchases-MAX_NUM_FORMS": "0",
        }).content.decode()

    def api(email, phone):
        return sales_api.post("/api/contacts/", {"email": email, "phone": phone},
                              format="json").content.decode("unicode_escape")

    def csv_import(email, phone):
        result = contacts_import_csv(file=io.BytesIO(f"email,phone\n{email},{phone}\n".encode()))
        return " ".join(message for error in result.errors for message in error[2])

    return {"dashboard": dashboard, "admin": admin, "api": api, "import": csv_import}


DOORS = ["dashboard", "admin", "api", "import"]


@pytest.mark.django_db
@pytest.mark.parametrize("door", DOORS)
def test_every_door_stores_a_typed_number_in_e164(doors, door):
    doors[door]("ann@example.com", "0532 123 45 67")

    assert Contact.objects.get(email="ann@example.com").phone == "+905321234567"


@pytest.mark.django_db
@pytest.mark.parametrize("door", DOORS)
def test_every_door_refuses_what_is_not_a_phone_number(doors, door):
    said = doors[door]("ann@example.com", "not a phone!!")

    assert "Phone number not a phone!! is not valid" in said.replace("&#x27;", "'")
    assert not Contact.objects.exists()


@pytest.mark.django_db
def test_a_changed_number_is_stored_in_e164_too(sales_api):
    contact = Contact.objects.create(email="ann@example.com", phone="555 1234")  # older data

    response = sales_api.patch(f"/api/contacts/{contact.pk}/", {"phone": "+90 532 123 4567"},
                               format="json")

    assert response.json()["phone"] == "+905321234567"
    contact.refresh_from_db()
    assert contact.phone == "+905321234567"
