"""Every way consent changes writes exactly one ledger record with the right method and wording:
the staff form, the API, unsubscribe links; and the ledger shows on the contact page, in the
admin and in the personal-data export."""
import io
import zipfile

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from api.tests.helpers import token_client

from campaigns.tokens import unsubscribe_token
from customers.consent.models import ConsentMethod, ConsentRecord, ConsentWording
from customers.consent.services import consent_record
from customers.consent.wordings import INITIAL_VERSION
from customers.models import Contact
from customers.tests.factories import ContactFactory
from privacy.services import contact_export, export_as_csv_zip

pytestmark = pytest.mark.django_db


def wording(language: str) -> ConsentWording:
    return ConsentWording.objects.get(language=language, version=INITIAL_VERSION)


# --- Staff form -------------------------------------------------------------------------------

def post_contact(client, **fields):
    return client.post(reverse("dashboard:contact_create"), {
        "email": "new@example.com", "first_name": "New", "last_name": "", "phone": "",
        "language": "", **fields})


def test_staff_consent_is_recorded_with_method_evidence_and_wording(sales_client, sales_user):
    response = post_contact(sales_client, language="tr", marketing_consent="on",
                            consent_method="request", consent_evidence="email of 1 Dec")

    assert response.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.contact.email, record.given, record.method, record.evidence, record.wording,
            record.language, record.recorded_by, record.source) == (
        "new@example.com", True, "request", "email of 1 Dec", wording("tr"), "tr", sales_user,
        "staff")


def test_staff_form_refuses_consent_without_a_method(sales_client):
    response = post_contact(sales_client, marketing_consent="on", consent_evidence="trust me")

    assert response.status_code == 200
    assert "Say how the contact gave consent." in response.content.decode()
    assert (Contact.objects.count(), ConsentRecord.objects.count()) == (0, 0)


def test_staff_form_without_consent_records_nothing(sales_client):
    response = post_contact(sales_client, consent_method="staff_form")

    assert response.status_code == 302
    assert ConsentRecord.objects.count() == 0


def test_staff_form_offers_only_what_staff_can_witness(sales_client):
    form = sales_client.get(reverse("dashboard:contact_create")).context["form"]

    assert [value for value, _label in form.fields["consent_method"].choices] == [
        "", "staff_form", "public_form", "request"]


# --- API --------------------------------------------------------------------------------------

@pytest.fixture
def sales_api(sales_user):
    cache.clear()  # throttle counters: another test's requests must not slow these
    yield token_client(sales_user)
    cache.clear()


def test_api_create_records_the_named_wording_and_evidence(sales_api, sales_user):
    response = sales_api.post("/api/contacts/", {
        "email": "a@example.com", "marketing_consent": True, "language": "tr",
        "consent_wording": INITIAL_VERSION, "consent_evidence": "checkout, order 77"},
        format="json")

    assert response.status_code == 201
    assert "consent_wording" not in response.json()
    record = ConsentRecord.objects.get()
    assert (record.contact_id, record.method, record.source, record.wording, record.evidence,
            record.recorded_by) == (response.json()["id"], "api", "api", wording("tr"),
                                    "checkout, order 77", sales_user)


def test_api_old_fields_still_work_with_the_current_wording(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "a@example.com",
                                                 "marketing_consent": True}, format="json")

    assert response.status_code == 201
    assert ConsentRecord.objects.values_list("method", "wording", "language").get() == (
        "api", wording("en").pk, "en")


def test_api_uses_the_request_language_when_the_contact_has_none(sales_api):
    sales_api.post("/api/contacts/", {"email": "a@example.com", "marketing_consent": True},
                   format="json", HTTP_ACCEPT_LANGUAGE="tr")

    assert ConsentRecord.objects.get().wording == wording("tr")


def test_api_unknown_wording_is_a_400_and_stores_nothing(sales_api):
    response = sales_api.post("/api/contacts/", {
        "email": "a@example.com", "marketing_consent": True, "consent_wording": "99"},
        format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["consent_wording"]
    assert (Contact.objects.count(), ConsentRecord.objects.count()) == (0, 0)


def test_api_patch_unknown_wording_changes_nothing(sales_api):
    contact = ContactFactory(first_name="Ann")

    response = sales_api.patch(f"/api/contacts/{contact.pk}/", {
        "first_name": "Anna", "marketing_consent": True, "consent_wording": "99"}, format="json")

    assert response.status_code == 400
    contact.refresh_from_db()
    assert (contact.first_name, contact.marketing_consent) == ("Ann", False)
    assert ConsentRecord.objects.count() == 0


def test_api_wording_without_consent_is_a_400(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "a@example.com",
                                                 "consent_wording": INITIAL_VERSION},
                              format="json")

    assert response.status_code == 400
    assert Contact.objects.count() == 0


def test_api_patch_withdrawal_is_recorded_once(sales_api):
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.API)

    for _attempt in range(2):
        response = sales_api.patch(f"/api/contacts/{contact.pk}/", {
            "marketing_consent": False, "consent_source": "shop"}, format="json")
        assert response.status_code == 200

    assert list(ConsentRecord.objects.filter(given=False).values_list(
        "method", "source", "wording")) == [("api", "shop", None)]


# --- Unsubscribe ------------------------------------------------------------------------------

def unsubscribe_url(contact) -> str:
    return reverse("campaigns:unsubscribe", args=[unsubscribe_token(contact.pk)])


@pytest.mark.parametrize("body, method", [
    ({}, "unsubscribe_link"),
    ({"List-Unsubscribe": "One-Click"}, "one_click"),
])
def test_unsubscribe_records_one_withdrawal(body, method):
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM)
    client = Client(enforce_csrf_checks=True)

    client.post(unsubscribe_url(contact), body)
    client.post(unsubscribe_url(contact), body)  # a second click changes nothing

    assert list(ConsentRecord.objects.filter(given=False).values_list(
        "method", "source", "wording", "recorded_by")) == [
        (method, "unsubscribe-link", None, None)]


def test_opening_the_unsubscribe_page_records_nothing():
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM)

    Client().get(unsubscribe_url(contact))

    assert ConsentRecord.objects.filter(given=False).count() == 0


# --- Reading: contact page, admin, export -----------------------------------------------------

def test_sales_staff_see_the_history_with_the_wording_text(sales_client):
    contact = ContactFactory(language="tr")
    consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM,
                   source="Web shop", evidence="checkout, order 1234")
    consent_record(contact=contact, given=False, method=ConsentMethod.UNSUBSCRIBE_LINK)

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    page = response.content.decode()
    assert [r.given for r in response.context["consent_history"]] == [False, True]
    assert "Consent history" in page
    assert "checkout, order 1234" in page
    assert "açık rıza" in page  # the exact Turkish text, behind <details>
    assert "Unsubscribe link" in page


def test_a_user_without_the_permission_sees_no_history(client):
    from accounts.tests.factories import UserFactory
    from django.contrib.auth.models import Permission

    user = UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(user)
    contact = ContactFactory()

    response = client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert "consent_history" not in response.context
    assert "Consent history" not in response.content.decode()


def test_admin_makes_a_used_wording_read_only(admin_client):
    used, unused = wording("en"), ConsentWording.objects.create(language="en", version="2",
                                                                  text="Draft")
    consent_record(contact=ContactFactory(), given=True, method=ConsentMethod.API,
                   wording=used)

    used_page = admin_client.get(reverse("admin:customers_consentwording_change", args=[used.pk]))
    unused_page = admin_client.get(reverse("admin:customers_consentwording_change",
                                           args=[unused.pk]))

    assert 'name="text"' not in used_page.content.decode()
    assert 'name="text"' in unused_page.content.decode()
    assert admin_client.post(reverse("admin:customers_consentwording_delete", args=[used.pk]),
                             {"post": "yes"}).status_code == 403
    assert ConsentWording.objects.filter(pk=used.pk).exists()


def test_admin_adds_a_new_version_with_its_author(admin_client, admin_user):
    response = admin_client.post(reverse("admin:customers_consentwording_add"), {
        "purpose": "marketing_email", "language": "en", "version": "2", "text": "New text",
        "published_at_0": "2026-12-01", "published_at_1": "10:00:00"})

    assert response.status_code == 302
    assert ConsentWording.objects.get(version="2").created_by == admin_user


def test_admin_ledger_is_read_only_with_filters(admin_client):
    record = consent_record(contact=ContactFactory(), given=True, method=ConsentMethod.API)

    listing = admin_client.get(reverse("admin:customers_consentrecord_changelist"),
                               {"method__exact": "api", "given__exact": "1"})

    assert list(listing.context["cl"].queryset) == [record]
    assert admin_client.get(reverse("admin:customers_consentrecord_add")).status_code == 403
    assert admin_client.post(reverse("admin:customers_consentrecord_change", args=[record.pk]),
                             {"source": "x"}).status_code == 403


def test_export_includes_the_ledger_with_the_wording_text():
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM,
                   source="Web shop", evidence="order 1234")

    data = contact_export(contact)

    (row,) = data["consent_records"]
    assert (row["given"], row["method"], row["source"], row["wording_version"],
            row["wording_text"], row["evidence"]) == (
        True, "public_form", "Web shop", INITIAL_VERSION, wording("en").text, "order 1234")
    archive = zipfile.ZipFile(io.BytesIO(export_as_csv_zip(data)))
    assert wording("en").text in archive.read("consent_records.csv").decode("utf-8-sig")


def test_sales_role_can_view_the_ledger_and_wordings(sales_user):
    assert sales_user.has_perm("customers.view_consentrecord")
    assert sales_user.has_perm("customers.view_consentwording")
    assert not sales_user.has_perm("customers.add_consentwording")
