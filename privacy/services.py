"""Data-subject requests (GDPR art. 15/17, KVKK art. 11): export and erase one contact.

The views, the admin actions and any command call these functions, so every path exports the
same sections, erases the same columns and writes the same audit entry.

Which tables hold a person's data is not written here: every app declares its sections in its
own `personal_data.py` (crm/personal_data.py), and this module walks them. A test fails when a
model that can hold a person's data is declared nowhere.

Erasure keeps the contact row as an anonymous shell: purchases, scores, coupons, referrals,
cases and the outbox rows stay (revenue, uplift, referral and service figures must not
change), while every column that identifies the person is emptied or replaced by a
placeholder.
"""
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

from campaigns.models import Suppression
from campaigns.suppression import address_suppress
from crm import personal_data
from crm.csv_safe import SafeCSVDictWriter
from crm.personal_data import Person, Section
from customers.consent.models import ConsentMethod
from customers.consent.services import consent_record
from customers.models import Contact

from .models import PrivacyLog

EXPORT_FORMAT = "crm-personal-data/1"
ERASED_DOMAIN = "erased.invalid"  # .invalid is reserved (RFC 2606): never deliverable
ERASURE_SOURCE = "erasure"


def export_sections() -> list[Section]:
    """The sections an export holds, in the order the apps registered them."""
    return [section for section in personal_data.sections() if section.exported]


def list_section_names() -> list[str]:
    """The export's list sections (the contact and its score are single objects)."""
    return [section.name for section in export_sections() if not section.one]


# --- Export -----------------------------------------------------------------------------------

def _plain(value):
    """A JSON- and CSV-friendly value: exact decimals as strings, times in ISO 8601."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    return value


def contact_export(contact: Contact) -> dict:
    """Everything the CRM holds about one person, as plain JSON-serialisable data.

    One key per registered section: a list of rows, or one object (or null) for the contact
    and its current score. The JSON and the CSV files carry the same columns.
    """
    person = Person(contact=contact, email=contact.email)
    data: dict[str, object] = {"format": EXPORT_FORMAT, "exported_at": timezone.now().isoformat()}
    for section in export_sections():
        rows = [{name: _plain(value) for name, value in row.items()}
                for row in section.export_rows(person)]
        data[section.name] = (rows[0] if rows else None) if section.one else rows
    return data


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, (dict, list)):  # a website event's properties
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _csv_text(section: Section, rows: list[dict]) -> str:
    header = [name for name, _lookup in section.columns]
    buffer = io.StringIO()
    # Every cell through crm.csv_safe: a note reading =HYPERLINK(...) stays text.
    writer = SafeCSVDictWriter(buffer, fieldnames=header, lineterminator="\r\n")
    writer.writeheader()
    writer.writerows({key: _csv_cell(value) for key, value in row.items()} for row in rows)
    return buffer.getvalue()


def export_as_csv_zip(data: dict) -> bytes:
    """The export as a zip of UTF-8 CSV files, one per section, every file with its header.

    A zip rather than one CSV: the sections have different columns, and a spreadsheet opens
    each file as a clean table. contact.csv and current_score.csv have at most one row.
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for section in export_sections():
            rows = data[section.name]
            if section.one:
                rows = [rows] if rows else []
            # A BOM so spreadsheet programs read the file as UTF-8 (names like Şule, Ömer).
            archive.writestr(f"{section.name}.csv", "\ufeff" + _csv_text(section, rows))
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


def _admin_log_targets(person: Person) -> list[tuple[type, list]]:
    """Every registered row of the person, by model, read before erasure changes them."""
    return [(section.model, list(section.queryset(person).values_list("pk", flat=True)))
            for section in personal_data.sections()]


def _redact_admin_log(targets: list[tuple[type, list]]) -> int:
    """Admin history rows show str(object) ("Ada Lovelace <ada@...>", a note's first words)."""
    query = Q(pk__in=[])
    for model, ids in targets:
        if ids:
            query |= Q(content_type=ContentType.objects.get_for_model(model),
                       object_id__in=[str(pk) for pk in ids])
    # The repr is the row's id only; change_message holds field names, never values.
    return LogEntry.objects.filter(query).exclude(object_repr="").update(object_repr="")


def _erase_everywhere(person: Person) -> dict[str, int]:
    """Each app's declared erasure, then the admin history that quoted those rows."""
    targets = _admin_log_targets(person)
    counts: dict[str, int] = {}
    for section in personal_data.sections():
        changed = section.erase_rows(person)
        if section.counted_as:
            counts[section.counted_as] = counts.get(section.counted_as, 0) + changed
    counts["admin_log_redacted"] = _redact_admin_log(targets)
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
    counts = _erase_everywhere(Person(contact=contact, email=contact.email,
                                      erased_email=erased_email(contact.pk)))
    contact.refresh_from_db()
    consent_record(contact=contact, given=False, method=ConsentMethod.ERASURE,
                   source=ERASURE_SOURCE, recorded_by=by)
    address_suppress(email=contact.email, reason=Suppression.Reason.ERASED)  # the placeholder's
    privacy_log_record(contact_id=contact.pk, action=PrivacyLog.Action.ERASE, by=by,
                       counts=counts)
    return ErasureResult(counts=counts, already_erased=already)
