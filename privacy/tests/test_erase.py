"""Erasure: no trace of the person anywhere in the database, the figures unchanged."""
import pytest
from django.db import connection
from django.db.models import Count, Sum

from campaigns.audience import AudienceCriteria, audience_contacts
from campaigns.models import JourneyEnrollment, Message, ReferralCode, Suppression
from customers.models import Contact, FollowUp, Note, Purchase
from customers.tests.factories import ContactFactory
from feedback.models import SurveyResponse
from privacy.models import PrivacyLog
from privacy.services import contact_erase, erased_email

from .conftest import ADDRESS, EMAIL, FIRST, LAST, PHONE, WROTE

pytestmark = pytest.mark.django_db

# The address, its local part, the names, the phone as typed and as digits, what they wrote.
NEEDLES = [EMAIL, "zeynep.yildirimqz", FIRST, LAST, PHONE, "5551234567", ADDRESS, "bagdatqz",
           WROTE, "parrotqz"]


def _database_text() -> dict[str, str]:
    """Every row of every table, as lower-case text per table.

    PostgreSQL casts each whole row to its text form (JSON as stored, no Python repr);
    SQLite returns text columns as they are.
    """
    quote = connection.ops.quote_name
    row = "t::text" if connection.vendor == "postgresql" else "*"
    found = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT {row} FROM {quote(table)} AS t")  # introspected
            found[table] = repr(cursor.fetchall()).lower()
    return found


def _tables_with(needle: str) -> list[str]:
    return [table for table, text in _database_text().items() if needle.lower() in text]


def _purchase_figures() -> dict:
    return Purchase.objects.aggregate(n=Count("id"), amount=Sum("amount"),
                                      base=Sum("amount_base"))


def test_the_search_finds_the_person_before_erasure(rich_contact):
    # Guards the test below: a broken search would find nothing either.
    assert {"customers_contact", "customers_note", "campaigns_message",
            "campaigns_suppression", "django_admin_log", "customers_importjob",
            "webhooks_webhookdelivery"} <= set(_tables_with(EMAIL))
    assert {"support_case", "customers_note", "feedback_surveyresponse",
            "activity_websiteevent"} <= set(_tables_with(WROTE))
    assert "support_case" in _tables_with(ADDRESS)


def test_erasure_leaves_no_trace_in_any_table(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    assert {needle: _tables_with(needle) for needle in NEEDLES} == {n: [] for n in NEEDLES}


def test_erasure_keeps_purchases_and_the_contact_figures(rich_contact, privacy_manager):
    before = _purchase_figures()
    figures = Contact.objects.values("purchase_count", "total_spent", "first_purchase_at",
                                     "last_purchase_at").get(pk=rich_contact.pk)

    contact_erase(rich_contact, by=privacy_manager)

    assert _purchase_figures() == before
    assert Contact.objects.values("purchase_count", "total_spent", "first_purchase_at",
                                  "last_purchase_at").get(pk=rich_contact.pk) == figures


def test_erasure_empties_the_contact_and_withdraws_consent(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    contact = Contact.objects.get(pk=rich_contact.pk)
    assert (contact.email, contact.first_name, contact.last_name, contact.phone,
            contact.language) == (f"erased-{contact.pk}@erased.invalid", "", "", "", "")
    assert contact.marketing_consent is False
    assert contact.consent_source == "erasure"
    assert rich_contact.email == contact.email  # the caller's instance is refreshed


def test_erasure_keeps_outbox_rows_without_the_address(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    assert list(Message.objects.filter(contact=rich_contact).values_list("to_email", "last_error")
                ) == [("", ""), ("", "")]


def test_erasure_deletes_notes_tasks_code_and_blanks_comments(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    assert Note.objects.filter(contact=rich_contact).count() == 0
    assert FollowUp.objects.filter(contact=rich_contact).count() == 0
    assert ReferralCode.objects.filter(contact=rich_contact).count() == 0
    assert list(SurveyResponse.objects.filter(contact=rich_contact).values_list(
        "score", "comment")) == [(3, "")]


def test_erasure_suppresses_the_placeholder_not_the_old_address(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    assert list(Suppression.objects.values_list("email", "reason")) == [
        (erased_email(rich_contact.pk), "erased")]


def test_erased_contact_is_in_no_audience(privacy_manager):
    contact = ContactFactory(marketing_consent=True)  # not suppressed, not paused
    everyone = AudienceCriteria(consent_required=False)
    assert contact in audience_contacts(everyone)
    assert contact in audience_contacts(AudienceCriteria())

    contact_erase(contact, by=privacy_manager)

    assert contact not in audience_contacts(everyone)
    assert contact not in audience_contacts(AudienceCriteria())


def test_erasure_is_logged_without_personal_data(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    entry = PrivacyLog.objects.get()
    assert (entry.action, entry.contact_ref, entry.actor, entry.actor_username) == (
        "erase", rich_contact.pk, privacy_manager, privacy_manager.username)
    assert entry.counts["notes_deleted"] == 1
    assert entry.counts["messages_blanked"] == 2


def test_erasing_twice_is_harmless(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)
    figures = _purchase_figures()

    result = contact_erase(rich_contact, by=privacy_manager)

    assert result.already_erased is True
    assert set(result.counts.values()) == {0}
    assert Contact.objects.get(pk=rich_contact.pk).email == erased_email(rich_contact.pk)
    assert _purchase_figures() == figures
    assert Suppression.objects.count() == 1


def test_erasure_touches_no_other_contact(rich_contact, privacy_manager):
    other = ContactFactory(email="other@example.com", first_name="Ali", phone="123")

    contact_erase(rich_contact, by=privacy_manager)

    other.refresh_from_db()
    assert (other.email, other.first_name, other.phone) == ("other@example.com", "Ali", "123")


def test_a_returning_address_is_a_new_contact_without_consent(rich_contact, privacy_manager):
    contact_erase(rich_contact, by=privacy_manager)

    again = Contact.objects.create(email=EMAIL)

    assert again.pk != rich_contact.pk
    assert again.marketing_consent is False


def test_erasure_deletes_the_website_events(rich_contact, privacy_manager):
    from activity.models import WebsiteEvent

    result = contact_erase(rich_contact, by=privacy_manager)

    assert result.counts["website_events_deleted"] == 1
    assert not WebsiteEvent.objects.filter(contact=rich_contact).exists()


def test_erasure_removes_the_person_from_import_previews_and_reports(
        rich_contact, privacy_manager, tmp_path):
    from customers.models import ImportJob

    report = tmp_path / "orders-rejected.csv"
    report.write_text(f"line,email,reasons\n2,{EMAIL.upper()},Amount is not a number\n"
                      "3,other@example.com,Amount is not a number\n", encoding="utf-8")
    job = ImportJob.objects.create(
        kind=ImportJob.Kind.PURCHASES, original_name="orders.csv", report_path=str(report),
        preview={"header": ["email", "amount"], "counts": {"count_rejected": 2},
                 "rows": [[EMAIL, "x"], ["other@example.com", "y"]],
                 "errors": [[2, EMAIL, ["Amount is not a number"]],
                            [3, "other@example.com", ["Amount is not a number"]]]})

    result = contact_erase(rich_contact, by=privacy_manager)

    job.refresh_from_db()
    # This job's preview row, error and report row; the fixture's job's preview row and error.
    assert result.counts["import_rows_deleted"] == 5
    assert report.read_text(encoding="utf-8").splitlines() == [
        "line,email,reasons", "3,other@example.com,Amount is not a number"]
    assert job.preview["rows"] == [["other@example.com", "y"]]
    assert job.preview["errors"] == [[3, "other@example.com", ["Amount is not a number"]]]
    assert job.preview["counts"] == {"count_rejected": 2}
    assert _tables_with(EMAIL) == []


def test_erasure_ends_the_persons_journeys(rich_contact, privacy_manager):
    """Nothing more may be written or sent for an erased person: their journeys end."""
    contact_erase(rich_contact, by=privacy_manager)

    assert list(JourneyEnrollment.objects.filter(contact=rich_contact).values_list(
        "status", flat=True)) == [JourneyEnrollment.Status.STOPPED]
    assert PrivacyLog.objects.get().counts["journeys_ended"] == 1
