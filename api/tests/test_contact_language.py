"""The contact's language in the API: read, written, validated against settings.LANGUAGES."""
import pytest

from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_a_contact_is_created_with_a_language(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "can@example.com", "language": "tr"},
                              format="json")

    assert response.status_code == 201
    assert response.json()["language"] == "tr"
    assert Contact.objects.get().language == "tr"


def test_the_language_defaults_to_blank(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "can@example.com"}, format="json")

    assert (response.status_code, response.json()["language"]) == (201, "")


def test_an_unknown_language_is_a_400_with_a_field_error_and_nothing_stored(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "can@example.com", "language": "de"},
                              format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["language"]
    assert response.json()["language"] == ['"de" is not a valid choice.']
    assert not Contact.objects.exists()


def test_patch_changes_and_validates_the_language(manager_api):
    contact = ContactFactory(language="en")

    ok = manager_api.patch(f"/api/contacts/{contact.pk}/", {"language": "tr"}, format="json")
    bad = manager_api.patch(f"/api/contacts/{contact.pk}/", {"language": "xx"}, format="json")

    assert (ok.status_code, ok.json()["language"]) == (200, "tr")
    assert bad.status_code == 400 and list(bad.json()) == ["language"]
    assert Contact.objects.get(pk=contact.pk).language == "tr"


def test_patch_can_clear_the_language(manager_api):
    contact = ContactFactory(language="tr")

    response = manager_api.patch(f"/api/contacts/{contact.pk}/", {"language": ""}, format="json")

    assert response.status_code == 200
    assert Contact.objects.get(pk=contact.pk).language == ""
