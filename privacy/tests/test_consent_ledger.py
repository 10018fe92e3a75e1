"""The consent ledger: wordings per language and version, one record per consent decision."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from customers.consent.models import ConsentMethod, ConsentRecord, ConsentWording
from customers.consent.services import consent_record, consent_records_bulk
from customers.consent.wordings import INITIAL_VERSION
from customers.models import Contact
from customers.services.contacts import contact_create, contact_set_consent
from customers.tests.factories import ContactFactory
from privacy.services import contact_erase

pytestmark = pytest.mark.django_db


def wording(language: str) -> ConsentWording:
    return ConsentWording.objects.get(language=language, version=INITIAL_VERSION)


def publish(language: str, version: str, *, at=None, text="New text") -> ConsentWording:
    return ConsentWording.objects.create(language=language, version=version, text=text,
                                         published_at=at or timezone.now())


# --- Wordings ---------------------------------------------------------------------------------

def test_english_and_turkish_wordings_ship_with_the_migration():
    turkish = wording("tr").text

    assert set(ConsentWording.objects.values_list("language", "version")) == {
        ("en", INITIAL_VERSION), ("tr", INITIAL_VERSION)}
    assert "açık rıza" in turkish
    assert "ticari elektronik ileti" in turkish
    assert "abonelikten çıkma bağlantısıyla" in turkish
    assert "unsubscribe link" in wording("en").text


def test_the_current_wording_is_the_latest_published():
    newer = publish("en", "2")
    publish("en", "3", at=timezone.now() + dt.timedelta(days=1))  # not published yet

    assert ConsentWording.objects.current(purpose="marketing_email", language="en") == newer
    assert ConsentWording.objects.current(purpose="marketing_email",
                                          language="tr") == wording("tr")


def test_a_used_wording_cannot_be_changed_or_deleted():
    used = wording("en")
    consent_record(contact=ContactFactory(), given=True, method=ConsentMethod.API)
    used.text = "Something else"

    with pytest.raises(ValidationError):
        used.save()
    with pytest.raises(ValidationError):
        used.delete()
    assert wording("en").text != "Something else"


def test_an_unused_wording_can_still_be_corrected():
    draft = publish("en", "2", text="Typo")
    draft.text = "Fixed"

    draft.save()

    assert ConsentWording.objects.get(pk=draft.pk).text == "Fixed"


def test_a_version_label_is_unique_per_language():
    with pytest.raises(IntegrityError), transaction.atomic():
        publish("en", INITIAL_VERSION)


# --- consent_record ---------------------------------------------------------------------------

def test_giving_consent_writes_one_record_and_stamps_the_contact(sales_user):
    contact = ContactFactory()
    at = timezone.now() - dt.timedelta(hours=2)

    record = consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM,
                            source="Web shop", recorded_by=sales_user, occurred_at=at,
                            evidence="checkbox at checkout, order 1234")

    contact.refresh_from_db()
    assert list(ConsentRecord.objects.values_list("pk", flat=True)) == [record.pk]
    assert (record.given, record.method, record.source, record.language, record.wording,
            record.recorded_by, record.occurred_at, record.evidence) == (
        True, "public_form", "Web shop", "en", wording("en"), sales_user, at,
        "checkbox at checkout, order 1234")
    assert (contact.marketing_consent, contact.consent_changed_at, contact.consent_source) == (
        True, at, "Web shop")


def test_a_turkish_contact_gets_the_turkish_wording():
    contact = ContactFactory(language="tr")

    record = consent_record(contact=contact, given=True, method=ConsentMethod.STAFF_FORM)

    assert (record.wording, record.language) == (wording("tr"), "tr")


def test_a_named_language_wins_over_the_contact_language():
    record = consent_record(contact=ContactFactory(language="tr"), given=True,
                            method=ConsentMethod.API, language="en-GB")

    assert (record.wording, record.language) == (wording("en"), "en")


def test_withdrawal_needs_no_wording_and_a_repeat_writes_nothing():
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.API)

    withdrawal = consent_record(contact=contact, given=False, method=ConsentMethod.REQUEST,
                                source="phone call")
    again = consent_record(contact=contact, given=False, method=ConsentMethod.REQUEST)

    assert (withdrawal.given, withdrawal.wording, withdrawal.method) == (False, None, "request")
    assert again is None
    assert ConsentRecord.objects.filter(contact=contact).count() == 2
    contact.refresh_from_db()
    assert (contact.marketing_consent, contact.consent_source) == (False, "phone call")


def test_agreeing_to_a_new_version_is_recorded_and_keeps_the_first_consent_time():
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.API, source="first")
    contact.refresh_from_db()
    first = contact.consent_changed_at
    newer = publish("en", "2")

    record = consent_record(contact=contact, given=True, method=ConsentMethod.PUBLIC_FORM)

    contact.refresh_from_db()
    assert record.wording == newer
    assert ConsentRecord.objects.filter(contact=contact, given=True).count() == 2
    assert (contact.consent_changed_at, contact.consent_source) == (first, "first")


def test_the_same_consent_sent_again_writes_nothing():
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.API)

    again = consent_record(contact=contact, given=True, method=ConsentMethod.API)

    assert again is None
    assert ConsentRecord.objects.filter(contact=contact).count() == 1


def test_consent_held_before_the_ledger_gets_its_first_record():
    contact = ContactFactory(marketing_consent=True, consent_changed_at=timezone.now(),
                             consent_source="legacy")

    record = consent_record(contact=contact, given=True, method=ConsentMethod.REQUEST)

    assert record.wording == wording("en")
    contact.refresh_from_db()
    assert contact.consent_source == "legacy"


def test_consent_without_a_published_wording_is_refused_and_nothing_changes():
    ConsentWording.objects.filter(language="tr").delete()
    contact = ContactFactory(language="tr")

    with pytest.raises(ValidationError) as error:
        consent_record(contact=contact, given=True, method=ConsentMethod.API)

    assert list(error.value.message_dict) == ["consent_wording"]
    assert ConsentRecord.objects.count() == 0
    contact.refresh_from_db()
    assert (contact.marketing_consent, contact.consent_changed_at) == (False, None)


def test_an_unknown_method_is_a_programming_error():
    with pytest.raises(ValueError):
        consent_record(contact=ContactFactory(), given=False, method="carrier pigeon")


def test_records_are_append_only():
    record = consent_record(contact=ContactFactory(), given=True, method=ConsentMethod.API)
    record.source = "rewritten"

    with pytest.raises(ValidationError):
        record.save()


def test_the_database_refuses_consent_given_without_a_wording():
    with pytest.raises(IntegrityError), transaction.atomic():
        ConsentRecord.objects.create(contact=ContactFactory(), given=True, method="api")


def test_contact_set_consent_delegates_to_the_ledger():
    contact = ContactFactory()

    contact_set_consent(contact=contact, consent=True, source="test")

    record = ConsentRecord.objects.get()
    assert (record.contact, record.method, record.source, record.wording) == (
        contact, "staff_form", "test", wording("en"))


def test_contact_create_records_consent_once_and_nothing_without_it():
    given = contact_create(email="yes@example.com", marketing_consent=True,
                           consent_source="checkout", language="tr",
                           consent_method=ConsentMethod.PUBLIC_FORM, consent_evidence="order 9")
    contact_create(email="no@example.com")

    record = ConsentRecord.objects.get()
    assert (record.contact, record.method, record.wording, record.evidence) == (
        given, "public_form", wording("tr"), "order 9")


# --- Bulk (imports) ---------------------------------------------------------------------------

def test_bulk_writes_one_record_per_contact_in_one_insert(django_assert_num_queries):
    contacts = ContactFactory.create_batch(5)
    ids = [contact.pk for contact in contacts[:4]]

    with django_assert_num_queries(5):  # savepoint, wording, INSERT ... SELECT, UPDATE, release
        written = consent_records_bulk(ids, given=True, method=ConsentMethod.CSV_IMPORT,
                                       source="shop.csv", language="tr", wording=None,
                                       recorded_by=None)

    assert written == 4
    assert sorted(ConsentRecord.objects.values_list("contact_id", flat=True)) == sorted(ids)
    assert set(ConsentRecord.objects.values_list("method", "source", "wording", "language")) == {
        ("csv_import", "shop.csv", wording("tr").pk, "tr")}
    assert Contact.objects.filter(marketing_consent=True, consent_source="shop.csv").count() == 4
    assert not Contact.objects.get(pk=contacts[4].pk).marketing_consent


def test_bulk_takes_a_queryset_and_withdrawals_have_no_wording():
    ContactFactory.create_batch(3, last_name="Import")
    ContactFactory(last_name="Other")

    written = consent_records_bulk(Contact.objects.filter(last_name="Import"), given=False,
                                   method=ConsentMethod.CSV_IMPORT, source="csv",
                                   language="", wording=None, recorded_by=None)

    assert written == 3
    assert set(ConsentRecord.objects.values_list("given", "wording", "language")) == {
        (False, None, "en")}


def test_bulk_consent_without_a_wording_stores_nothing():
    ConsentWording.objects.all().delete()
    contact = ContactFactory()

    with pytest.raises(ValidationError):
        consent_records_bulk([contact.pk], given=True, method=ConsentMethod.CSV_IMPORT,
                             source="csv", language="en", wording=None, recorded_by=None)

    assert ConsentRecord.objects.count() == 0


def test_the_purchase_import_gives_no_consent_and_writes_no_record():
    # Buying is not consenting: the purchase CSV has no consent column and its new contacts
    # start without consent, so there is nothing to record (the contact import records).
    from customers.imports.purchases import purchases_import_rows

    result = purchases_import_rows(source="shop", rows=[
        {"email": "new@example.com", "purchased_at": "2026-11-01 10:00", "amount": "10.00",
         "currency": "USD"}])

    assert result.contacts_created == 1
    assert Contact.objects.get(email="new@example.com").marketing_consent is False
    assert ConsentRecord.objects.count() == 0


# --- Erasure ----------------------------------------------------------------------------------

def test_erasure_records_a_withdrawal_keeps_the_ledger_and_blanks_notes(privacy_manager):
    contact = ContactFactory()
    consent_record(contact=contact, given=True, method=ConsentMethod.STAFF_FORM,
                   evidence="told Ayşe at the till")

    contact_erase(contact, by=privacy_manager)
    contact_erase(contact, by=privacy_manager)  # again: no second withdrawal

    records = list(ConsentRecord.objects.filter(contact=contact).order_by("id").values_list(
        "given", "method", "evidence", "recorded_by"))
    assert records == [(True, "staff_form", "", None),
                       (False, "erasure", "", privacy_manager.pk)]


def test_after_a_flush_the_first_wordings_come_back_but_never_over_a_new_version():
    # post_migrate runs after migrate and after a test flush (TransactionTestCase).
    from customers.apps import _seed_wordings

    ConsentWording.objects.filter(language="tr").delete()
    ConsentWording.objects.filter(language="en").update(version="7")

    _seed_wordings(sender=None)

    assert set(ConsentWording.objects.values_list("language", "version")) == {
        ("en", "7"), ("tr", INITIAL_VERSION)}
