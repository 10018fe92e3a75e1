"""Data-subject requests (GDPR art. 15/17, KVKK art. 11): export and erase one contact.

The views, the admin actions and any command call these functions, so every path exports the
same sections, erases the same columns and writes the same audit entry.

Erasure keeps the contact row as an anonymous shell: purchases, scores, coupons, referrals and
the outbox rows stay (revenue, uplift and referral figures must not change), while every
column that identifies the person is emptied or replaced by a placeholder.
"""
import csv
import datetime as dt
import io
import json
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from activity.models import WebsiteEvent
from campaigns.models import Coupon, Message, Referral, ReferralCode, Suppression
from campaigns.sending import address_suppress
from customers.import_jobs import import_jobs_forget
from customers.models import Contact, FollowUp, Note, Purchase
from customers.selectors import contact_current_score
from feedback.models import PromotionPause, SurveyResponse
from webhooks.services import contact_deliveries_delete

from .consent import consent_record, consent_records_bulk  # noqa: F401 - the public names
from .models import ConsentMethod, ConsentRecord, PrivacyLog

EXPORT_FORMAT = "crm-personal-data/1"
ERASED_DOMAIN = "erased.invalid"  # .invalid is reserved (RFC 2606): never deliverable
ERASURE_SOURCE = "erasure"

CONTACT_FIELDS = (
    "id", "email", "first_name", "last_name", "phone", "language", "marketing_consent",
    "consent_changed_at", "consent_source", "created_at", "updated_at", "purchase_count",
    "first_purchase_at", "last_purchase_at", "total_spent", "stage",
)
SCORE_FIELDS = (
    "scored_at", "p_buy_again", "p_alive", "expected_purchases", "expected_value",
    "predicted_value_12m", "frequency", "recency_days", "age_days",
)
# Section name -> (column name, ORM lookup). The column names are the CSV headers.
LIST_SECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    "purchases": (("id", "id"), ("purchased_at", "purchased_at"), ("amount", "amount"),
                  ("currency", "currency"), ("amount_base", "amount_base"),
                  ("quantity", "quantity"), ("channel", "channel"), ("source", "source"),
                  ("external_id", "external_id"), ("code", "code"),
                  ("refunded_at", "refunded_at"), ("refunded_amount", "refunded_amount")),
    "notes": (("id", "id"), ("created_at", "created_at"), ("body", "body")),
    "follow_ups": (("id", "id"), ("title", "title"), ("due_on", "due_on"),
                   ("done_at", "done_at"), ("created_at", "created_at")),
    "messages": (("id", "id"), ("campaign", "campaign__name"), ("status", "status"),
                 ("to_email", "to_email"), ("sent_at", "sent_at"),
                 ("created_at", "created_at")),
    "coupons": (("code", "code"), ("campaign", "campaign__name"), ("purpose", "purpose"),
                ("kind", "kind"), ("value", "value"), ("currency", "currency"),
                ("expires_at", "expires_at"), ("redeemed_at", "redeemed_at")),
    "referral_code": (("code", "code"), ("created_at", "created_at")),
    # Only this contact's side: the other person of a referral is someone else's data.
    "referrals_made": (("id", "id"), ("created_at", "created_at"),
                       ("reward_coupon", "reward__code")),
    "referred_by": (("id", "id"), ("created_at", "created_at")),
    "survey_responses": (("id", "id"), ("score", "score"), ("comment", "comment"),
                         ("language", "language"), ("created_at", "created_at"),
                         ("updated_at", "updated_at")),
    "promotion_pause": (("paused_until", "paused_until"), ("created_at", "created_at")),
    "suppression": (("email", "email"), ("reason", "reason"), ("created_at", "created_at")),
    "website_events": (("id", "id"), ("kind", "kind"), ("name", "name"),
                       ("properties", "properties"), ("occurred_at", "occurred_at"),
                       ("source", "source"), ("external_id", "external_id")),
    # The ledger with the exact wording agreed to: what the person saw is theirs to see.
    "consent_records": (("id", "id"), ("given", "given"), ("purpose", "purpose"),
                        ("occurred_at", "occurred_at"), ("method", "method"),
                        ("source", "source"), ("language", "language"),
                        ("wording_version", "wording__version"),
                        ("wording_text", "wording__text"), ("evidence", "evidence")),
}


# --- Export -----------------------------------------------------------------------------------

def _plain(value):
    """A JSON- and CSV-friendly value: exact decimals as strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    return value


def _section_querysets(contact: Contact) -> dict:
    return {
        "purchases": Purchase.objects.filter(contact=contact).order_by("purchased_at", "id"),
        "notes": Note.objects.filter(contact=contact).order_by("created_at", "id"),
        "follow_ups": FollowUp.objects.filter(contact=contact).order_by("due_on", "id"),
        "messages": Message.objects.filter(contact=contact).order_by("created_at", "id"),
        "coupons": Coupon.objects.filter(contact=contact).order_by("created_at", "id"),
        "referral_code": ReferralCode.objects.filter(contact=contact),
        "referrals_made": Referral.objects.filter(referrer=contact).order_by("created_at", "id"),
        "referred_by": Referral.objects.filter(referee=contact),
        "survey_responses": SurveyResponse.objects.filter(contact=contact).order_by(
            "created_at", "id"),
        "promotion_pause": PromotionPause.objects.filter(contact=contact),
        "suppression": Suppression.objects.filter(email__iexact=contact.email),
        "consent_records": ConsentRecord.objects.filter(contact=contact).order_by(
            "occurred_at", "id"),
        "website_events": WebsiteEvent.objects.filter(contact=contact).order_by(
            "occurred_at", "id"),
    }


def _rows(queryset, columns: tuple[tuple[str, str], ...]) -> list[dict]:
    lookups = [lookup for _name, lookup in columns]
    return [{name: _plain(row[lookup]) for name, lookup in columns}
            for row in queryset.values(*lookups)]


def contact_export(contact: Contact) -> dict:
    """Everything the CRM holds about one person, as plain JSON-serialisable data.

    One section per kind of record; each list section has the columns LIST_SECTIONS names,
    so the JSON and the CSV files carry the same data.
    """
    score = contact_current_score(contact=contact)
    data = {
        "format": EXPORT_FORMAT,
        "exported_at": timezone.now().isoformat(),
        "contact": {name: _plain(getattr(contact, name)) for name in CONTACT_FIELDS},
        "current_score": (None if score is None else
                          {name: _plain(getattr(score, name)) for name in SCORE_FIELDS}),
    }
    data["contact"]["owner"] = contact.owner.get_username() if contact.owner_id else ""
    for name, queryset in _section_querysets(contact).items():
        data[name] = _rows(queryset, LIST_SECTIONS[name])
    return data


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):  # a website event's properties
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _csv_text(header: list[str], rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: _csv_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def export_as_csv_zip(data: dict) -> bytes:
    """The export as a zip of UTF-8 CSV files, one per section, every file with its header.

    A zip rather than one CSV: the sections have different columns, and a spreadsheet opens
    each file as a clean table. contact.csv and current_score.csv have at most one row.
    """
    files = {"contact": (list(data["contact"]), [data["contact"]])}
    score = data["current_score"]
    files["current_score"] = (list(SCORE_FIELDS), [score] if score else [])
    for name, columns in LIST_SECTIONS.items():
        files[name] = ([column for column, _lookup in columns], data[name])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (header, rows) in files.items():
            # A BOM so spreadsheet programs read the file as UTF-8 (names like Şule, Ömer).
            archive.writestr(f"{name}.csv", "\ufeff" + _csv_text(header, rows))
    return buffer.getvalue()


# --- Audit ------------------------------------------------------------------------------------

def privacy_log_record(*, contact_id: int, action: str, by, counts: dict | None = None
                       ) -> PrivacyLog:
    """Write the audit entry: who, when, which contact (by id only), what was done."""
    return PrivacyLog.objects.create(
        contact_ref=contact_id, action=action, counts=counts or {},
        actor=by if by is not None and by.pk else None,
        actor_username=by.get_username() if by is not None else "",
    )


def contact_export_logged(*, contact: Contact, by, action: str) -> dict:
    """Export and log it in one step, as the views and admin actions need."""
    data = contact_export(contact)
    privacy_log_record(contact_id=contact.pk, action=action, by=by)
    return data


# --- Erasure ----------------------------------------------------------------------------------

def erased_email(contact_id: int) -> str:
    """The placeholder address of an erased contact: unique (the email column is) and inert."""
    return f"erased-{contact_id}@{ERASED_DOMAIN}"


def is_erased(contact: Contact) -> bool:
    return contact.email == erased_email(contact.pk)


@dataclass
class ErasureResult:
    counts: dict[str, int] = field(default_factory=dict)
    already_erased: bool = False


def _redact_admin_log(targets: list[tuple[type, list]]) -> int:
    """Admin history rows show str(object) ("Ada Lovelace <ada@...>", a note's first words)."""
    query = Q(pk__in=[])
    for model, ids in targets:
        if ids:
            query |= Q(content_type=ContentType.objects.get_for_model(model),
                       object_id__in=[str(pk) for pk in ids])
    # The repr is the row's id only; change_message holds field names, never values.
    return LogEntry.objects.filter(query).exclude(object_repr="").update(object_repr="")


def _erase_related(contact: Contact, old_email: str) -> dict[str, int]:
    notes = list(Note.objects.filter(contact=contact).values_list("pk", flat=True))
    follow_ups = list(FollowUp.objects.filter(contact=contact).values_list("pk", flat=True))
    messages = list(Message.objects.filter(contact=contact).values_list("pk", flat=True))
    suppressions = Suppression.objects.filter(email__iexact=old_email).exclude(
        email=erased_email(contact.pk))  # a second erasure keeps the placeholder's entry
    counts = {
        "admin_log_redacted": _redact_admin_log([
            (Contact, [contact.pk]), (Note, notes), (FollowUp, follow_ups), (Message, messages),
            (Suppression, list(suppressions.values_list("pk", flat=True))),
        ]),
        "notes_deleted": Note.objects.filter(pk__in=notes).delete()[0],
        "follow_ups_deleted": FollowUp.objects.filter(pk__in=follow_ups).delete()[0],
        # The rows stay: they are the outbox record and the uplift figures count them.
        # last_error too: a server's refusal usually quotes the address.
        "messages_blanked": Message.objects.filter(pk__in=messages).exclude(
            to_email="", last_error="").update(to_email="", last_error=""),
        "survey_comments_blanked": SurveyResponse.objects.filter(contact=contact).exclude(
            comment="").update(comment=""),
        "referral_codes_deleted": ReferralCode.objects.filter(contact=contact).delete()[0],
        "suppressions_deleted": suppressions.delete()[0],
        "webhook_deliveries_deleted": contact_deliveries_delete(contact.pk),
        # What they looked at and searched for on the shop's site is about them: all of it.
        "website_events_deleted": WebsiteEvent.objects.filter(contact=contact).delete()[0],
        # The ledger stays (it proves consent was honoured); a free-text note might name them.
        "consent_evidence_blanked": ConsentRecord.objects.filter(contact=contact).exclude(
            evidence="").update(evidence=""),

        # Dashboard imports keep the file's first rows (preview) and its rejected rows (report).
        "import_rows_deleted": import_jobs_forget(old_email),
    }
    return counts


@transaction.atomic
def contact_erase(contact: Contact, *, by) -> ErasureResult:
    """Remove the person's data everywhere, keep the anonymous figures; safe to repeat.

    The old address leaves the suppression list too (keeping it would keep the personal
    data). The placeholder address is suppressed instead, so the shell is never in an
    audience or sent to. If the person comes back with the same address, they are a new
    contact with no consent until they give it again.
    """
    # Lock the row, then work on the caller's instance so it shows the erased state.
    Contact.objects.select_for_update().filter(pk=contact.pk).values_list("pk").get()
    contact.refresh_from_db()
    already = is_erased(contact)
    counts = _erase_related(contact, contact.email)
    contact.email = erased_email(contact.pk)
    contact.first_name = contact.last_name = contact.phone = contact.language = ""
    contact.save(update_fields=["email", "first_name", "last_name", "phone", "language",
                                "updated_at"])
    consent_record(contact=contact, given=False, method=ConsentMethod.ERASURE,
                   source=ERASURE_SOURCE, recorded_by=by)
    address_suppress(email=contact.email, reason=Suppression.Reason.ERASED)
    privacy_log_record(contact_id=contact.pk, action=PrivacyLog.Action.ERASE, by=by,
                       counts=counts)
    return ErasureResult(counts=counts, already_erased=already)
