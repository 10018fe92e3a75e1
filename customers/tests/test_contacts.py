"""Contacts: one per email whatever the capitalisation, minimal data, consent with its time."""
import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError

from customers.models import Contact
from customers.services.contacts import contact_create, contact_set_consent, contact_update
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_email_is_trimmed_and_lower_cased():
    contact = contact_create(email="  Ada.Lovelace@Example.COM ")

    assert contact.email == "ada.lovelace@example.com"


def test_same_email_in_other_capitalisation_is_refused():
    contact_create(email="ada@example.com")

    with pytest.raises(ValidationError) as caught:
        contact_create(email="ADA@example.com")

    assert "already exists" in caught.value.message_dict["email"][0]
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("bad", ["", "   ", "not-an-email", "a@b", "ada@@example.com", "ada@exa mple.com"])
def test_invalid_email_is_refused(bad):
    with pytest.raises(ValidationError):
        contact_create(email=bad)

    assert Contact.objects.count() == 0


def test_database_refuses_upper_case_email_written_around_the_service():
    with pytest.raises(IntegrityError):
        Contact.objects.create(email="Ada@Example.com")


def test_consent_records_when_and_where():
    contact = contact_create(email="ada@example.com", marketing_consent=True, consent_source="checkout")

    assert contact.marketing_consent is True
    assert contact.consent_source == "checkout"
    assert contact.consent_changed_at is not None


def test_withdrawing_consent_moves_the_timestamp():
    contact = contact_create(email="ada@example.com", marketing_consent=True, consent_source="checkout")
    given_at = contact.consent_changed_at

    contact_set_consent(contact=contact, consent=False, source="staff")

    contact.refresh_from_db()
    assert contact.marketing_consent is False
    assert contact.consent_source == "staff"
    assert contact.consent_changed_at > given_at


def test_update_cannot_touch_derived_figures():
    contact = ContactFactory()

    with pytest.raises(TypeError):
        contact_update(contact=contact, purchase_count=5)


def test_update_normalises_email():
    contact = ContactFactory()

    contact_update(contact=contact, email=" New@Example.com")

    contact.refresh_from_db()
    assert contact.email == "new@example.com"
