"""Bulk contact import: a CSV file in, contacts created or updated by email.

Used by `manage.py import_contacts` and the browser upload (customers.imports.jobs). The rules,
the same as customers.imports.purchases where they can be:

- Columns (header names trimmed, case-insensitive): email is required; first_name, last_name,
  phone, marketing_consent and (when contacts have a language) language are optional. Any
  other column refuses the whole file.
- Each row is checked with customers.normalise; every error of a row is reported with its line
  number. All or nothing unless skip_invalid. Non-UTF-8 or malformed CSV refuses the file.
- An empty cell leaves the contact's value as it is: an import never clears data.
- phone is checked and stored in E.164 by customers.phones, as at every other door.
- marketing_consent is yes/no/true/false/1/0 (any case); anything else rejects the row. A
  consent change goes through the consent ledger (customers.consent.services.consent_records_bulk),
  which records it and stamps consent_changed_at and consent_source.
- Idempotent: a second run of the same file changes nothing. An email given twice in one file
  is an error on the later lines.
- A contact created elsewhere (the shop's API, a colleague) while the import runs is updated
  from its row, as if it had been there before: the batch is redone, the import goes on.

Rows are checked in Python without ORM objects, then written per batch: one query reads the
batch's existing contacts, bulk_create adds the new ones and bulk_update changes only the
fields a row really changes, all in one transaction.
"""
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, TextIO

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..consent.models import ConsentMethod
from ..consent.services import consent_language, consent_records_bulk
from ..models import Contact
from ..normalise import normalise_email
from ..phones import normalise_phone
from .reading import (
    MAX_ERRORS_KEPT, ErrorReport, ImportRefused, RowError, csv_records, header_columns, opened,
)

REQUIRED_COLUMNS = ("email",)
OPTIONAL_COLUMNS = ("first_name", "last_name", "phone", "marketing_consent", "language")
BATCH_ROWS = 2_000
CONSENT_SOURCE = "import"
CONSENT_VALUES = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}

_TEXT_FIELDS = ("first_name", "last_name", "phone")


def columns_allowed() -> tuple[str, ...]:
    return REQUIRED_COLUMNS + OPTIONAL_COLUMNS


@dataclass(frozen=True)
class ContactImportResult:
    rows_read: int
    rows_valid: int
    rows_invalid: int
    contacts_created: int = 0
    contacts_updated: int = 0
    contacts_unchanged: int = 0
    consent_changed: int = 0
    errors: list[RowError] = field(default_factory=list)  # the first MAX_ERRORS_KEPT
    imported: bool = False
    dry_run: bool = False
    consent_ledger: bool = False  # consent changes went to privacy's consent ledger

    @property
    def errors_truncated(self) -> bool:
        return self.rows_invalid > len(self.errors)


# --- Public API -----------------------------------------------------------------------------

def contacts_import_csv(
    *, file: TextIO | BinaryIO | str | os.PathLike, skip_invalid: bool = False,
    errors_file: TextIO | None = None, progress: Callable[[int], None] | None = None,
    dry_run: bool = False, source: str = CONSENT_SOURCE, recorded_by=None,
) -> ContactImportResult:
    """Import a contacts CSV (a path, or a binary or text file object). See the module doc.

    progress(rows_read) is called after every batch, inside the transaction (do not write
    through the default connection from it). dry_run does everything, then rolls back.
    """
    with opened(file) as stream:
        records, _layout = csv_records(stream)
        try:
            _line, header = next(records)
        except StopIteration:
            raise ImportRefused(_("The file is empty: the first line must name the columns "
                                  "(at least email).")) from None
        columns = contact_columns(header)
        return _import(columns, records, skip_invalid=skip_invalid, errors_file=errors_file,
                       progress=progress, dry_run=dry_run, source=source,
                       recorded_by=recorded_by)


def contact_columns(header: list[str]) -> list[str]:
    """Normalised column names; refuse missing, unknown, unnamed or repeated columns."""
    return header_columns(header, required=REQUIRED_COLUMNS, allowed=columns_allowed())


# --- Checking rows --------------------------------------------------------------------------

class _RowChecker:
    """One row's texts to {field: value} (only non-empty cells), or the reasons it is wrong."""

    def __init__(self, columns: list[str]):
        self.columns = columns
        self.width = len(columns)
        self.limits = {name: Contact._meta.get_field(name).max_length for name in _TEXT_FIELDS}
        self.languages = _language_choices() if "language" in columns else set()

    def email_text(self, values: list[str]) -> str:
        at = self.columns.index("email")
        return values[at] if at < len(values) else ""

    def check(self, values: list[str]) -> dict | list[str]:
        reasons: list[str] = []
        if len(values) != self.width:
            reasons.append(_("The row has %(found)d fields; the header has %(expected)d.")
                           % {"found": len(values), "expected": self.width})
            values = (values + [""] * self.width)[:self.width]
        cells = {name: text.strip() for name, text in zip(self.columns, values)}
        row: dict = {}
        try:
            row["email"] = normalise_email(cells["email"])
        except ValidationError as error:
            reasons.extend(error.messages)
        for name in _TEXT_FIELDS:
            if cells.get(name):
                row[name] = self._text(name, cells[name], reasons)
        if cells.get("marketing_consent"):
            row["marketing_consent"] = self._consent(cells["marketing_consent"], reasons)
        if cells.get("language"):
            row["language"] = self._language(cells["language"], reasons)
        return reasons or row

    def _text(self, name: str, text: str, reasons: list[str]) -> str:
        if len(text) > self.limits[name]:
            reasons.append(_("%(column)s is longer than %(limit)d characters.")
                           % {"column": name, "limit": self.limits[name]})
        if "\x00" in text:
            reasons.append(_("%(column)s contains a NUL character.") % {"column": name})
        if name == "phone":  # the rule of every door: customers.phones
            try:
                return normalise_phone(text)
            except ValidationError as error:
                reasons.extend(error.messages)
        return text

    def _consent(self, text: str, reasons: list[str]) -> bool | None:
        value = CONSENT_VALUES.get(text.lower())
        if value is None:
            reasons.append(_("Marketing consent %(value)s is not one of yes, no, true, false, "
                             "1, 0.") % {"value": text[:20]})
        return value

    def _language(self, text: str, reasons: list[str]) -> str:
        code = text.lower()
        if self.languages and code not in self.languages:
            reasons.append(_("Language %(value)s is not one of %(allowed)s.")
                           % {"value": text[:20], "allowed": ", ".join(sorted(self.languages))})
        return code


def _language_choices() -> set[str]:
    from django.conf import settings

    language = Contact._meta.get_field("language")
    codes = {str(code) for code, _label in (language.choices or settings.LANGUAGES)}
    return {code for code in codes if code}


# --- Writing --------------------------------------------------------------------------------

@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    consent_given: list[int] = field(default_factory=list)
    consent_withdrawn: list[int] = field(default_factory=list)

    def add(self, other: "_Counts") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.consent_given += other.consent_given
        self.consent_withdrawn += other.consent_withdrawn


def _changes(contact: Contact, row: dict) -> list[str]:
    """The fields this row really changes; an empty cell is not in `row`, so changes nothing.

    A first consent decision counts as a change even when it equals the default (no).
    """
    return [name for name, value in row.items()
            if name != "email" and (getattr(contact, name) != value or (
                name == "marketing_consent" and contact.consent_changed_at is None))]


def _write_batch(rows: list[dict], counts: _Counts, *, now) -> None:
    # Locked in id order (as customers.services does): a concurrent edit is not lost.
    existing = {contact.email: contact for contact in Contact.objects.select_for_update()
                .filter(email__in=[row["email"] for row in rows]).order_by("pk")}
    new, changed, fields = [], [], set()
    for row in rows:
        contact = existing.get(row["email"])
        if contact is None:
            new.append(Contact(**{**row, "created_at": now, "updated_at": now}))
            continue
        names = _changes(contact, row)
        if not names:
            counts.unchanged += 1
            continue
        for name in names:
            setattr(contact, name, row[name])
        if "marketing_consent" in names:  # stamped by the ledger (_record_consent)
            _count_consent(counts, contact)
        contact.updated_at = now
        fields.update(names, ["updated_at"])
        changed.append(contact)
    Contact.objects.bulk_create(new, batch_size=500)
    counts.created += len(new)
    for contact, row in zip(new, (row for row in rows if row["email"] not in existing)):
        if "marketing_consent" in row:  # ids are set on PostgreSQL and SQLite
            _count_consent(counts, contact)
    if changed:
        Contact.objects.bulk_update(changed, sorted(fields), batch_size=500)
    counts.updated += len(changed)


# A batch meets a contact created elsewhere at most this often before the import gives up.
_BATCH_ATTEMPTS = 3


def _write_batch_adopting(rows: list[dict], counts: _Counts, *, now) -> None:
    """_write_batch, redone when a contact with one of the batch's emails was created elsewhere
    (the shop's API, a colleague) after the batch read the existing ones: the insert then
    breaks the unique email, and on the next attempt that contact is updated, as if it had
    been there all along, instead of failing the whole import."""
    for attempt in range(1, _BATCH_ATTEMPTS + 1):
        batch_counts = _Counts()
        try:
            with transaction.atomic():
                _write_batch(rows, batch_counts, now=now)
        except IntegrityError:
            if attempt == _BATCH_ATTEMPTS:
                raise
            continue
        counts.add(batch_counts)
        return


def _count_consent(counts: _Counts, contact: Contact) -> None:
    target = counts.consent_given if contact.marketing_consent else counts.consent_withdrawn
    target.append((contact.pk, getattr(contact, "language", "")))


def _record_consent(counts: _Counts, *, source: str, recorded_by) -> None:
    """Every consent change through the consent ledger (customers.consent), which also stamps
    the contacts' consent columns (one rule for every writer).

    Consent given is recorded under the wording published in the contact's language; with
    none published the import is refused: consent must not be granted without one. Each
    record, a withdrawal too, names the contact's language, as consent_record's do.
    """
    for given, changed in ((True, counts.consent_given), (False, counts.consent_withdrawn)):
        by_language: dict[str, list[int]] = {}
        for pk, language in changed:
            by_language.setdefault(consent_language(None, language), []).append(pk)
        for language, ids in by_language.items():
            try:
                consent_records_bulk(ids, given=given, method=ConsentMethod.CSV_IMPORT,
                                     source=source, language=language, recorded_by=recorded_by)
            except ValidationError as error:
                raise ImportRefused(
                    _("The file gives marketing consent, but %(problem)s Publish the consent "
                      "wording first, or leave marketing_consent empty. Nothing was imported.")
                    % {"problem": " ".join(error.messages)}) from None


# --- The run --------------------------------------------------------------------------------

def _valid_rows(records: Iterable[tuple[int, list[str]]], checker: _RowChecker,
                report: ErrorReport, read: list[int]) -> Iterator[dict]:
    """Checked rows; errors (and emails repeated in the file) go to the report."""
    first_lines: dict[str, int] = {}
    for line, values in records:
        if not any(values):
            continue
        read[0] += 1
        outcome = checker.check(values)
        if isinstance(outcome, list):
            report.add(line, checker.email_text(values), outcome)
            continue
        earlier = first_lines.setdefault(outcome["email"], line)
        if earlier != line:
            report.add(line, outcome["email"], [
                _("Email %(email)s is already on line %(first)d of this file.")
                % {"email": outcome["email"], "first": earlier}])
            continue
        yield outcome


def _import(columns: list[str], records, *, skip_invalid: bool, errors_file, progress,
            dry_run: bool, source: str, recorded_by) -> ContactImportResult:
    checker = _RowChecker(columns)
    report = ErrorReport(errors_file)
    read = [0]
    counts = _Counts()
    now = timezone.now()
    with transaction.atomic():
        batch: list[dict] = []
        for row in _valid_rows(records, checker, report, read):
            batch.append(row)
            if len(batch) == BATCH_ROWS:
                _write_batch_adopting(batch, counts, now=now)
                batch = []
                if progress:
                    progress(read[0])
        _write_batch_adopting(batch, counts, now=now)
        if progress:
            progress(read[0])
        imported = skip_invalid or not report.count
        if imported:  # also in a dry run: a missing consent wording shows in the preview
            _record_consent(counts, source=source, recorded_by=recorded_by)
        if dry_run or not imported:
            transaction.set_rollback(True)
    if not imported:
        counts = _Counts()
    return ContactImportResult(
        rows_read=read[0], rows_valid=read[0] - report.count, rows_invalid=report.count,
        contacts_created=counts.created, contacts_updated=counts.updated,
        contacts_unchanged=counts.unchanged,
        consent_changed=len(counts.consent_given) + len(counts.consent_withdrawn),
        errors=sorted(report.kept)[:MAX_ERRORS_KEPT], imported=imported and not dry_run,
        dry_run=dry_run, consent_ledger=imported,
    )
