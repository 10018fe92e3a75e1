"""Every write to contacts and purchases goes through here: dashboard, admin, import, API, tasks.

Each purchase write locks its contact row first, so concurrent writers for one contact are
serialised and the derived figures (customers.stats) are recomputed from committed data.
"""
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connections, router, transaction
from django.db.models import QuerySet
from django.db.models.constants import OnConflict
from django.db.models.functions import TruncDate
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext

from crm.prepared import PreparedLookup
from crm.tasks import queue_after_commit
from privacy.consent import consent_record
from privacy.models import ConsentMethod

from . import hooks
from .models import Channel, Contact, CurrencyRate, Purchase
from .money import base_currency, normalise_currency, to_base, validate_amount
from .normalise import normalise_email, shop_day, shop_timezone, validate_purchase_time
from .owners import owner_validate
from .stats import contacts_refresh_stats, contacts_with_drift


CONTACT_EDITABLE_FIELDS = frozenset({"email", "first_name", "last_name", "phone", "owner",
                                     "language"})


@dataclass(frozen=True)
class PurchaseResult:
    purchase: Purchase
    created: bool
    # What happened to the purchase's coupon or referral code: the first non-empty answer of
    # hooks.purchase_created (campaigns.coupons.CodeOutcome); hooks.code_outcome_message words it.
    code_outcome: str = ""


def currency_rates() -> dict[str, Decimal]:
    return dict(CurrencyRate.objects.values_list("currency", "rate"))


# --- Contacts -------------------------------------------------------------------------------

def contact_create(
    *, email: str, first_name: str = "", last_name: str = "", phone: str = "",
    owner=None, marketing_consent: bool = False, consent_source: str = "", language: str = "",
    consent_method: str = ConsentMethod.STAFF_FORM, consent_wording=None,
    consent_evidence: str = "", recorded_by=None,
) -> Contact:
    """A new contact; with marketing_consent, its consent is recorded in the ledger too."""
    email = normalise_email(email)
    if Contact.objects.filter(email=email).exists():
        raise ValidationError({"email": ValidationError(
            gettext("A contact with this email already exists."), code="unique")})
    owner_validate(owner)
    contact = Contact(
        email=email, first_name=first_name.strip(), last_name=last_name.strip(),
        phone=phone.strip(), owner=owner, language=language,
    )
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        if marketing_consent:
            consent_record(contact=contact, given=True, method=consent_method,
                           source=consent_source, wording=consent_wording,
                           evidence=consent_evidence, recorded_by=recorded_by)
    return contact


def contact_get_or_create(*, email: str, first_name: str = "", last_name: str = "",
                          language: str = "") -> Contact:
    """The contact with this email; the names and language are stored only on a new one."""
    email = normalise_email(email)
    contact, _created = Contact.objects.get_or_create(
        email=email, defaults={"first_name": first_name.strip(), "last_name": last_name.strip(),
                               "language": language}
    )
    return contact


def contact_update(*, contact: Contact, **changes) -> Contact:
    """Change personal fields and owner; consent goes through contact_set_consent."""
    unknown = set(changes) - CONTACT_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"contact_update cannot change {sorted(unknown)}")
    # Only a new owner is checked: one who has since left the roles stays while other fields
    # change (customers.owners.owner_choices offers them for that reason).
    if "owner" in changes and _pk(changes["owner"]) != contact.owner_id:
        owner_validate(changes["owner"])
    for field, value in changes.items():
        setattr(contact, field, value.strip() if isinstance(value, str) else value)
    contact.full_clean()
    contact.save()
    return contact


def contact_set_consent(
    *, contact: Contact, consent: bool, source: str, method: str = ConsentMethod.STAFF_FORM,
    wording=None, evidence: str = "", recorded_by=None, language: str = "",
) -> Contact:
    """Give or withdraw consent: privacy.consent.consent_record holds the rule and the ledger."""
    consent_record(contact=contact, given=consent, method=method, source=source,
                   wording=wording, evidence=evidence, recorded_by=recorded_by,
                   language=language)
    return contact


def contacts_assign_owner(*, contacts: QuerySet, owner) -> int:
    """Give the contacts to `owner` (None: nobody); an ineligible owner is a ValidationError."""
    owner_validate(owner)
    return contacts.update(owner=owner, updated_at=timezone.now())


def _pk(user) -> int | None:
    return None if user is None else user.pk


# --- Purchases ------------------------------------------------------------------------------

def purchase_clean(
    *, purchased_at: dt.datetime, amount: Decimal, currency: str,
    rates: dict[str, Decimal] | None = None,
) -> dict:
    """Validate a purchase's money and time; return the stored values. Errors are per field."""
    errors: dict[str, ValidationError] = {}
    cleaned: dict = {}
    try:
        cleaned["purchased_at"] = validate_purchase_time(purchased_at)
        cleaned["purchased_on"] = shop_day(purchased_at)
    except ValidationError as error:
        errors["purchased_at"] = error
    try:
        cleaned["currency"] = normalise_currency(currency)
        cleaned["amount"] = validate_amount(amount, cleaned["currency"])
    except ValidationError as error:
        errors["currency" if "currency" not in cleaned else "amount"] = error
    else:
        if rates is None:  # the base currency needs no rate: no query for most shops' orders
            rates = {} if cleaned["currency"] == base_currency() else currency_rates()
        try:
            cleaned["amount_base"] = to_base(cleaned["amount"], cleaned["currency"], rates)
        except ValidationError as error:
            errors["currency"] = error
    if errors:
        raise ValidationError(errors)
    return cleaned


def _lock_contact(contact_id: int) -> None:
    list(Contact.objects.select_for_update().filter(pk=contact_id).values_list("pk"))


def _contact_lock_or_create(*, email: str, first_name: str, last_name: str) -> Contact:
    """The contact with this email, locked until the transaction ends; created when new (a
    row this transaction inserted is as good as locked: nobody else sees it before commit)."""
    email = normalise_email(email)
    contact = _CONTACT_BY_EMAIL_LOCKED.first(email=email)
    if contact is not None:
        return contact
    contact = Contact(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    if _insert_unless_conflict(contact):
        return contact
    # Created by a concurrent writer since the first look: wait for it, then use it.
    return _CONTACT_BY_EMAIL_LOCKED.first(email=email)


_CONTACT_BY_EMAIL_LOCKED = PreparedLookup(
    lambda email: Contact.objects.select_for_update().filter(email=email),
    email="prepared-email",
)


def _insert_unless_conflict(instance) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: one statement, where create() inside a
    savepoint takes three. False (and nothing written) when a unique constraint already holds
    the values; on PostgreSQL a conflicting row still uncommitted is waited for first."""
    model = instance._meta.model
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values([field for field in model._meta.local_concrete_fields
                         if not (field.primary_key or field.generated)], [instance])
    connection = connections[router.db_for_write(model)]
    sql, params = query.get_compiler(connection=connection).as_sql()[0]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {connection.ops.quote_name(pk.column)}", params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True


# Bulk changes beyond this many contacts wait for the nightly run instead of one task each.
_SCORE_REFRESH_LIMIT = 100


def _refresh_scores_after_commit(contact_ids) -> None:
    """Re-score these contacts from the last fitted models within seconds of the change."""
    from .tasks import refresh_contact_score_task

    for contact_id in sorted(contact_ids)[:_SCORE_REFRESH_LIMIT]:
        queue_after_commit(refresh_contact_score_task, contact_id,
                           consequence="the nightly run re-scores everyone anyway")


def purchase_known(*, source: str, external_id: str | None) -> Purchase | None:
    """The purchase recorded before under this (source, external_id), if any."""
    external_id = (external_id or "").strip() or None
    if external_id is None:
        return None
    return _PURCHASE_BY_ORDER.first(source=source, external_id=external_id)


# Asked of every purchase the API receives (retries included): compiled once per process.
_PURCHASE_BY_ORDER = PreparedLookup(
    lambda source, external_id: Purchase.objects.filter(source=source, external_id=external_id),
    source="prepared-source", external_id="prepared-external-id",
)


def _purchase_recorded_after_commit(contact_id: int) -> None:
    from .tasks import purchase_recorded_task

    queue_after_commit(purchase_recorded_task, contact_id,
                       consequence="the nightly run re-scores; event campaigns miss it")


def purchase_record(
    *, contact: Contact, purchased_at: dt.datetime, amount: Decimal, currency: str,
    channel: str = Channel.ONLINE, quantity: int = 1, source: str = "manual",
    external_id: str | None = None, code: str = "", recorded_by=None,
    refresh_contact: bool = True,
) -> PurchaseResult:
    """Record a purchase once; a known (source, external_id) returns the existing one.

    `contact` shows its new figures afterwards unless refresh_contact is False (one query
    fewer for callers that do not look)."""
    known = purchase_known(source=source, external_id=external_id)
    if known is not None:  # a retry: answer with the order recorded before, lock nothing
        return PurchaseResult(known, created=False)
    values = purchase_clean(purchased_at=purchased_at, amount=amount, currency=currency)
    with transaction.atomic():
        _lock_contact(contact.pk)
        result = _purchase_insert(
            contact=contact, channel=channel, quantity=quantity, source=source,
            external_id=external_id, code=code, recorded_by=recorded_by, **values)
    if refresh_contact and result.created:
        contact.refresh_from_db()
    return result


def purchase_record_by_email(
    *, email: str, first_name: str = "", last_name: str = "", purchased_at: dt.datetime,
    amount: Decimal, currency: str, channel: str = Channel.ONLINE, quantity: int = 1,
    source: str = "manual", external_id: str | None = None, code: str = "", recorded_by=None,
) -> PurchaseResult:
    """A shop's order by the buyer's email: the contact (created when new, names only then)
    and the purchase in one transaction, so a refused purchase leaves no new contact behind.
    A known (source, external_id) returns the existing purchase."""
    known = purchase_known(source=source, external_id=external_id)
    if known is not None:
        return PurchaseResult(known, created=False)
    values = purchase_clean(purchased_at=purchased_at, amount=amount, currency=currency)
    with transaction.atomic():
        contact = _contact_lock_or_create(email=email, first_name=first_name,
                                          last_name=last_name)
        return _purchase_insert(
            contact=contact, channel=channel, quantity=quantity, source=source,
            external_id=external_id, code=code, recorded_by=recorded_by, **values)


def _purchase_insert(*, contact: Contact, source: str, external_id: str | None, code: str,
                     **fields) -> PurchaseResult:
    """The purchase, its code and its contact's figures, with the contact already locked."""
    external_id = (external_id or "").strip() or None
    purchase = Purchase(contact=contact, source=source, external_id=external_id,
                        code=code.strip(), **fields)
    if not _insert_unless_conflict(purchase):
        # Recorded before (perhaps a moment ago by a concurrent retry, perhaps for another
        # contact): the first record stands.
        existing = purchase_known(source=source, external_id=external_id)
        if existing is None:  # SQLite's INSERT OR IGNORE also skips a failed CHECK
            raise IntegrityError("The database refused the purchase.")
        return PurchaseResult(existing, created=False)
    # campaigns redeems a coupon or records a referral (inside this transaction, as before).
    outcome = next((answer for answer in hooks.purchase_created.call(purchase) if answer), "")
    contacts_refresh_stats([contact.pk])
    _purchase_recorded_after_commit(contact.pk)  # re-score, then event campaigns
    return PurchaseResult(purchase, created=True, code_outcome=outcome)


def purchase_update(*, purchase: Purchase, **changes) -> Purchase:
    """Correct a purchase (amount, currency, time, channel, items, code, contact).

    A changed code is applied again (hooks.purchase_code_changed: campaigns undoes the old
    code, applies the new one); what it did is on `purchase.code_outcome` ("" when the code
    did not change)."""
    old_contact_id, old_code = purchase.contact_id, purchase.code
    if "code" in changes:
        changes["code"] = (changes["code"] or "").strip()
    for field, value in changes.items():
        setattr(purchase, field, value)
    values = purchase_clean(
        purchased_at=purchase.purchased_at, amount=purchase.amount, currency=purchase.currency
    )
    with transaction.atomic():
        for contact_id in sorted({old_contact_id, purchase.contact_id}):
            _lock_contact(contact_id)
        for field, value in values.items():
            setattr(purchase, field, value)
        purchase.save()
        purchase.code_outcome = ""
        if purchase.code != old_code:
            purchase.code_outcome = next(
                (answer for answer in hooks.purchase_code_changed.call(purchase) if answer), "")
        contacts_refresh_stats({old_contact_id, purchase.contact_id})
        _refresh_scores_after_commit({old_contact_id, purchase.contact_id})
    return purchase


def purchase_refund(*, purchase: Purchase, amount: Decimal | None = None,
                    refunded_at: dt.datetime | None = None) -> Purchase:
    """Refund a purchase in full (no amount) or in part, in the purchase's currency.

    A full refund keeps the purchase on record and it stops counting (stage, figures, scores;
    a referral reward it earned and did not spend is withdrawn). A partial refund keeps it
    counting as a purchase and lowers what it is worth. Partial refunds add up; reaching the
    whole amount is a full refund. Refunding a purchase refunded in full changes nothing."""
    refunded_at = refunded_at or timezone.now()
    with transaction.atomic():
        _lock_contact(purchase.contact_id)
        current = Purchase.objects.get(pk=purchase.pk)
        if current.refunded_at is None:
            total = current.refunded_amount + refund_amount_check(current, amount)
            full = total == current.amount
            Purchase.objects.filter(pk=current.pk).update(
                refunded_amount=total, refunded_at=refunded_at if full else None,
                refunded_amount_base=current.amount_base if full else (
                    current.amount_base * total / current.amount).quantize(Decimal("0.001")))
            if full:  # campaigns: an unspent referral reward it earned is withdrawn
                hooks.purchase_refunded.call(current, at=refunded_at)
            contacts_refresh_stats([purchase.contact_id])
            _refresh_scores_after_commit([purchase.contact_id])
    purchase.refresh_from_db()
    return purchase


def purchase_refund_to(*, purchase: Purchase,
                       refunded_total: Decimal) -> tuple[Purchase, bool]:
    """Bring a purchase's refunded amount up to `refunded_total` (the order's total refunded
    so far, as the shop states it): sending the same total again changes nothing, so a shop
    may retry. Returns (purchase, changed). A total below what is refunded already is refused:
    a refund cannot be taken back."""
    with transaction.atomic():
        _lock_contact(purchase.contact_id)
        current = Purchase.objects.get(pk=purchase.pk)
        try:
            refunded_total = validate_amount(refunded_total, current.currency)
        except ValidationError as error:
            raise ValidationError({"refunded_amount": error.messages}) from None
        if refunded_total < current.refunded_amount:
            raise ValidationError({"refunded_amount": ValidationError(
                gettext("%(refunded)s of this purchase is refunded already; a refund cannot be "
                        "taken back.") % {"refunded": _money(current.refunded_amount,
                                                           current.currency)},
                code="min_value")})
        if refunded_total == current.refunded_amount:
            purchase.refresh_from_db()
            return purchase, False
        try:
            return purchase_refund(purchase=current,
                                   amount=refunded_total - current.refunded_amount), True
        except ValidationError as error:  # over the purchase's amount
            raise ValidationError({"refunded_amount": error.messages}) from None


def refund_amount_check(purchase: Purchase, amount: Decimal | None) -> Decimal:
    """The amount to refund now: all that is left by default; else checked against it."""

    left = purchase.amount - purchase.refunded_amount
    if amount is None:
        return left
    amount = validate_amount(amount, purchase.currency)
    if amount <= 0:
        raise ValidationError({"amount": ValidationError(
            gettext("Give an amount to refund above zero."), code="min_value")})
    if amount > left:
        raise ValidationError({"amount": ValidationError(
            gettext("At most %(left)s of this purchase can still be refunded.")
            % {"left": _money(left, purchase.currency)}, code="max_value")})
    return amount


def purchase_delete(*, purchase: Purchase) -> None:
    with transaction.atomic():
        _lock_contact(purchase.contact_id)
        purchase.delete()
        contacts_refresh_stats([purchase.contact_id])
        _refresh_scores_after_commit([purchase.contact_id])


def purchases_delete(*, purchases: QuerySet) -> int:
    with transaction.atomic():
        contact_ids = sorted(set(purchases.values_list("contact_id", flat=True)))
        # Lock in id order, as every writer does, so two bulk deletes cannot deadlock.
        list(Contact.objects.select_for_update().filter(pk__in=contact_ids)
             .order_by("pk").values_list("pk"))
        deleted, _by_model = purchases.delete()
        contacts_refresh_stats(contact_ids)
        _refresh_scores_after_commit(contact_ids)
    return deleted


# --- Consistency ----------------------------------------------------------------------------

@dataclass(frozen=True)
class DriftReport:
    checked: int
    drifted: int
    sample_ids: list[int]
    # Purchases whose shop-local day was wrong (the shop's time zone changed since).
    days_corrected: int = 0


def contacts_rederive_stats(*, fix: bool = True) -> DriftReport:
    """Compare every contact's stored figures with its purchases; fix those that differ.

    Purchase days come first: after a change of the shop's time zone (CRM_TIME_ZONE) they are
    re-derived, and with them the figures that count days."""
    days = purchases_rederive_days(fix=fix)
    drifted_ids = list(contacts_with_drift().values_list("pk", flat=True))
    if fix and drifted_ids:
        with transaction.atomic():
            contacts_refresh_stats(drifted_ids)
    return DriftReport(
        checked=Contact.objects.count(), drifted=len(drifted_ids), sample_ids=drifted_ids[:20],
        days_corrected=days,
    )


def purchases_rederive_days(*, fix: bool = True) -> int:
    """Purchases whose day (purchased_on) is not their shop-local day: corrected, with their
    contacts' figures, contact by contact in id order as every writer locks. Returns how many
    were (or, without fix, would be) corrected."""
    shop_day_of = TruncDate("purchased_at", tzinfo=shop_timezone())
    wrong = Purchase.objects.exclude(purchased_on=shop_day_of)
    if not fix:
        return wrong.count()
    contact_ids = sorted(set(wrong.values_list("contact_id", flat=True)))
    corrected = 0
    for start in range(0, len(contact_ids), _REDERIVE_CHUNK):
        chunk = contact_ids[start:start + _REDERIVE_CHUNK]
        with transaction.atomic():
            list(Contact.objects.select_for_update().filter(pk__in=chunk).order_by("pk")
                 .values_list("pk"))
            corrected += wrong.filter(contact_id__in=chunk).update(purchased_on=shop_day_of)
            contacts_refresh_stats(chunk)
    return corrected


_REDERIVE_CHUNK = 2000


def _money(amount: Decimal, currency: str) -> str:
    """As the reader expects it: "$100.00", "100,00 €"."""
    from .templatetags.money import money

    return money(amount, currency)
