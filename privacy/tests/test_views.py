import io
import json
import zipfile

import pytest
from django.urls import reverse

from customers.models import Contact
from privacy.models import PrivacyLog

from .conftest import EMAIL

pytestmark = pytest.mark.django_db


def _urls(contact: Contact) -> dict[str, str]:
    return {name: reverse(f"privacy:{name}", args=[contact.pk])
            for name in ("contact", "export_json", "export_csv", "erase")}


def test_anonymous_visitors_are_sent_to_login(client, rich_contact):
    for url in _urls(rich_contact).values():
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_sales_staff_are_refused(sales_client, rich_contact):
    urls = _urls(rich_contact)

    assert sales_client.get(urls["contact"]).status_code == 403
    for name in ("export_json", "export_csv", "erase"):
        assert sales_client.post(urls[name], {"confirm_email": EMAIL}).status_code == 403
    assert Contact.objects.get(pk=rich_contact.pk).email == EMAIL
    assert PrivacyLog.objects.count() == 0


def test_manager_sees_the_page_with_both_exports_and_the_erase_form(manager_client, rich_contact):
    response = manager_client.get(_urls(rich_contact)["contact"])

    assert response.status_code == 200
    for testid in ("export-json", "export-csv", "erase-form"):
        assert f'data-testid="{testid}"' in response.content.decode()


def test_json_export_downloads_and_is_logged(manager_client, rich_contact, privacy_manager):
    response = manager_client.post(_urls(rich_contact)["export_json"])

    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        f'attachment; filename="contact-{rich_contact.pk}-personal-data.json"')
    assert json.loads(response.content)["contact"]["email"] == EMAIL
    assert list(PrivacyLog.objects.values_list("action", "contact_ref", "actor")) == [
        ("export_json", rich_contact.pk, privacy_manager.pk)]


def test_csv_export_downloads_a_zip_and_is_logged(manager_client, rich_contact):
    response = manager_client.post(_urls(rich_contact)["export_csv"])

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "contact.csv" in zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert list(PrivacyLog.objects.values_list("action", flat=True)) == ["export_csv"]


def test_exports_are_post_only(manager_client, rich_contact):
    assert manager_client.get(_urls(rich_contact)["export_json"]).status_code == 405
    assert PrivacyLog.objects.count() == 0


def test_erase_needs_the_typed_address(manager_client, rich_contact):
    response = manager_client.post(_urls(rich_contact)["erase"], {"confirm_email": "wrong@x.com"})

    assert response.status_code == 400
    assert Contact.objects.get(pk=rich_contact.pk).email == EMAIL
    assert PrivacyLog.objects.count() == 0


def test_erase_with_the_typed_address_erases(manager_client, rich_contact):
    response = manager_client.post(_urls(rich_contact)["erase"],
                                   {"confirm_email": f"  {EMAIL.upper()} "})

    assert response.status_code == 302
    assert response["Location"] == _urls(rich_contact)["contact"]
    assert Contact.objects.get(pk=rich_contact.pk).email == f"erased-{rich_contact.pk}@erased.invalid"
    assert list(PrivacyLog.objects.values_list("action", flat=True)) == ["erase"]


def test_erase_is_protected_by_csrf(client, rich_contact, privacy_manager):
    from django.test import Client

    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(privacy_manager)

    response = csrf_client.post(_urls(rich_contact)["erase"], {"confirm_email": EMAIL})

    assert response.status_code == 403
    assert Contact.objects.get(pk=rich_contact.pk).email == EMAIL
