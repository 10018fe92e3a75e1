"""The consent ledger's writes: every giving or withdrawal of consent goes through here.

consent_record() appends one ConsentRecord and updates the contact's summary columns
(marketing_consent, consent_changed_at, consent_source) in the same transaction, so the
contact row and the ledger cannot disagree. customers.services.contact_set_consent, the staff
form, the API, unsubscribe links, erasure and imports all call it (it moved here from
privacy.consent, issue #16: the ledger lives with the contact, below every app that writes it).

When a record is written:
- consent given: when the contact did not have it, and when it is given again under another
  wording than the contact's last consent (agreeing to a new version); the same consent sent
  again (an integration syncing its state) writes nothing and returns None;
- consent withdrawn: when the contact had consent, or had never decided (an objection is
  worth keeping); a repeated withdrawal writes nothing and returns None.
"""
import datetime as dt
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from crm.shop import shop
from customers.language import supported_language
from customers.models import Contact

from .models import ConsentMethod, ConsentPurpose, ConsentRecord, ConsentWording

PURPOSE = ConsentPurpose.MARKETING_EMAIL


def consent_language(contact: Contact | None = None, language: str = "") -> str:
    """The language a wording is shown in: the given one, the contact's, else the default."""
    return (supported_language(language)
            or (supported_language(contact.language) if contact is not None else "")
            or shop().default_language)


def consent_wording_current(*, language: str, purpose: str = PURPOSE,
                            at: dt.datetime | None = None) -> ConsentWording | None:
    return ConsentWording.objects.current(purpose=purpose, language=language, at=at)


def consent_wording_for(*, language: str, version: str = "",
                        purpose: str = PURPOSE) -> ConsentWording:
    """The named version in this language, or the current one; ValidationError if none."""
    if version:
        wording = ConsentWording.objects.published().filter(
            purpose=purpose, language=language, version=version.strip()).first()
        message = gettext("No published consent wording %(version)s in %(language)s.")
    else:
        wording = consent_wording_current(language=language, purpose=purpose)
        message = gettext("No consent wording is published in %(language)s yet.")
    if wording is None:
        raise ValidationError({"consent_wording": ValidationError(
            message % {"version": version, "language": language}, code="unknown_wording")})
    return wording


def _check_method(method: str) -> None:
    if method not in ConsentMethod.values:
        raise ValueError(f"Unknown consent method {method!r}")


def _stamps(contact: Contact, given: bool) -> bool:
    """Whether this decision changes the contact's consent (or is its first decision)."""
    return contact.marketing_consent != given or contact.consent_changed_at is None


@transaction.atomic
def consent_record(
    *, contact: Contact, given: bool, method: str, source: str = "", language: str = "",
    wording: ConsentWording | None = None, recorded_by=None,
    occurred_at: dt.datetime | None = None, evidence: str = "",
) -> ConsentRecord | None:
    """Append a ledger record and update the contact's consent columns; see the module doc.

    A consent given without a wording gets the current wording in `language` (else the
    contact's language, else the default language). Returns None when nothing changed.
    """
    _check_method(method)
    now = timezone.now()
    occurred_at = occurred_at or now
    stamps = _stamps(contact, given)
    if not given and not stamps:
        return None
    language = consent_language(contact, language)
    if given:
        wording = wording or consent_wording_for(language=language)
        language = wording.language
        if not stamps and _last_wording_id(contact) == wording.pk:
            return None
    else:
        wording = None
    record = ConsentRecord.objects.create(
        contact=contact, given=given, purpose=PURPOSE, occurred_at=occurred_at, recorded_at=now,
        method=method, source=source.strip()[:64], wording=wording, language=language,
        recorded_by=recorded_by if recorded_by is not None and recorded_by.pk else None,
        evidence=evidence.strip()[:200])
    if stamps:  # agreeing to a new version keeps the time consent was first given
        _contact_stamp(contact, given=given, at=occurred_at, source=source or method)
    return record


def _last_wording_id(contact: Contact) -> int | None:
    return (ConsentRecord.objects.filter(contact=contact, given=True)
            .order_by("-occurred_at", "-id").values_list("wording_id", flat=True).first())


def _contact_stamp(contact: Contact, *, given: bool, at: dt.datetime, source: str) -> None:
    contact.marketing_consent = given
    contact.consent_changed_at = at
    contact.consent_source = source.strip()[:64]
    contact.save(update_fields=["marketing_consent", "consent_changed_at", "consent_source",
                                "updated_at"])


_BULK_INSERT = """
    INSERT INTO {record} (contact_id, given, purpose, occurred_at, recorded_at, method, source,
                          wording_id, language, recorded_by_id, evidence)
    SELECT c.id, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s
    FROM {contact} c WHERE c.id IN ({ids})"""


@transaction.atomic
def consent_records_bulk(
    contact_ids: QuerySet | Iterable[int], *, given: bool, method: str, source: str,
    language: str = "", wording: ConsentWording | None = None, recorded_by=None,
    evidence: str = "",
) -> int:
    """One ledger record per contact in one INSERT ... SELECT, and their columns in one UPDATE.

    For imports and other set-based writers: every contact gets a record (the caller picks
    the contacts, e.g. those whose consent changes). contact_ids is a list of ids or a
    queryset of contacts (kept as a subquery: no ids pass through Python). Returns the
    number of records written.
    """
    _check_method(method)
    language = consent_language(None, language)
    if given:
        wording = wording or consent_wording_for(language=language)
        language = wording.language
    else:
        wording = None
    contacts = (contact_ids if isinstance(contact_ids, QuerySet)
                else Contact.objects.filter(pk__in=list(contact_ids)))
    ids_sql, ids_params = contacts.order_by().values("pk").query.sql_with_params()
    now = timezone.now()
    at = connection.ops.adapt_datetimefield_value(now)
    source = source.strip()[:64]
    with connection.cursor() as cursor:
        cursor.execute(
            _BULK_INSERT.format(record=ConsentRecord._meta.db_table,
                                contact=Contact._meta.db_table, ids=ids_sql),
            [given, PURPOSE, at, at, method, source, wording.pk if wording else None, language,
             recorded_by.pk if recorded_by is not None and recorded_by.pk else None,
             evidence.strip()[:200], *ids_params])
        written = cursor.rowcount
    Contact.objects.filter(pk__in=contacts.order_by().values("pk")).update(
        marketing_consent=given, consent_changed_at=now, consent_source=source or method,
        updated_at=now)
    return written
