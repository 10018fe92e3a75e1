"""Purchases: record (once per order), correct and delete.

Each purchase write locks its contact row first, so concurrent writers for one contact are
serialised and the derived figures (customers.stats) are recomputed from committed data.
"""
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext

from accounts.models import User
from crm.prepared import PreparedLookup
from crm.tasks import queue_after_commit

from .. import hooks
from ..channels import channel_resolve, label_seen
from ..models import Channel, Contact, Purchase
from ..money import base_currency, normalise_currency, to_base, validate_amount
from ..normalise import shop_day, validate_purchase_time
from ..scoring.freshness import scores_refresh_after_commit
from ..stats import contacts_refresh_stats
from .lines import PreparedLines, lines_check_update, lines_insert, lines_prepare, lines_rebase
from .locking import contact_lock_or_create, insert_unless_conflict, lock_contact
from .rates import RateBook


@dataclass(frozen=True)
class PurchaseResult:
    purchase: Purchase
    created: bool
    # What happened to the purchase's coupon or referral code: the first non-empty answer of
    # hooks.purchase_created (campaigns.coupons.CodeOutcome); hooks.code_outcome_message words it.
    code_outcome: str = ""


def purchase_clean(
    *, purchased_at: dt.datetime, amount: Decimal, currency: str,
    rates: RateBook | None = None,
) -> dict:
    """Validate a purchase's money and time; return the stored values. Errors are per field.

    A currency without a rate for the purchase day is no error: amount_base is None, the
    purchase provisional until a rate arrives (customers.services.rates)."""
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
        if cleaned["currency"] == base_currency():  # no query for most shops' orders
            cleaned["amount_base"] = cleaned["amount"]
        elif "purchased_on" in cleaned:
            rate = (rates or RateBook()).rate_on(cleaned["currency"], cleaned["purchased_on"])
            cleaned["amount_base"] = to_base(cleaned["amount"], rate)
    if errors:
        raise ValidationError(errors)
    return cleaned


def refresh_scores_after_commit(contact_ids: Iterable[int]) -> None:
    """Re-score these contacts from the last fitted models within minutes of the change: all
    of them, one task per chunk of contacts (customers.scoring.freshness)."""
    scores_refresh_after_commit(contact_ids)


def purchase_known(*, source: str, external_id: str | None) -> Purchase | None:
    """The purchase recorded before under this (source, external_id), if any."""
    external_id = (external_id or "").strip() or None
    if external_id is None:
        return None
    return _PURCHASE_BY_ORDER.first(source=source, external_id=external_id)


# Asked of every purchase the API receives (retries included): compiled once per process.
_PURCHASE_BY_ORDER: PreparedLookup[Purchase] = PreparedLookup(
    lambda source, external_id: Purchase.objects.filter(source=source, external_id=external_id),
    source="prepared-source", external_id="prepared-external-id",
)


def _purchase_recorded_after_commit(contact_id: int) -> None:
    from ..tasks import purchase_recorded_task

    queue_after_commit(purchase_recorded_task, contact_id,
                       consequence="the nightly run re-scores; event campaigns miss it")


def purchase_record(
    *, contact: Contact, purchased_at: dt.datetime, amount: Decimal | None, currency: str,
    channel: str = Channel.ONLINE, quantity: int | None = None, source: str = "manual",
    external_id: str | None = None, code: str = "", recorded_by: User | None = None,
    refresh_contact: bool = True, lines: Iterable[Mapping[str, Any]] | None = None,
    store: str = "",
) -> PurchaseResult:
    """Record a purchase once; a known (source, external_id) returns the existing one.

    `lines` (optional): the products bought, as mappings with sku, name, category, quantity,
    unit_price, discount (customers.services.lines: how they and the amount must agree; the
    amount may be None then). `store` names the product catalogue ("" the shop's own).
    `quantity` (items) defaults to the lines' quantities added up, else 1.
    `contact` shows its new figures afterwards unless refresh_contact is False (one query
    fewer for callers that do not look)."""
    known = purchase_known(source=source, external_id=external_id)
    if known is not None:  # a retry: answer with the order recorded before, lock nothing
        return PurchaseResult(known, created=False)
    values, prepared = _purchase_values(purchased_at=purchased_at, amount=amount,
                                        currency=currency, channel=channel, lines=lines)
    with transaction.atomic():
        lock_contact(contact.pk)
        result = _purchase_insert(
            contact=contact, quantity=_items(quantity, prepared), source=source,
            external_id=external_id, code=code, recorded_by=recorded_by, lines=prepared,
            store=store, **values)
    if refresh_contact and result.created:
        contact.refresh_from_db()
    return result


def purchase_record_by_email(
    *, email: str, first_name: str = "", last_name: str = "", purchased_at: dt.datetime,
    amount: Decimal | None, currency: str, channel: str = Channel.ONLINE,
    quantity: int | None = None, source: str = "manual", external_id: str | None = None,
    code: str = "", recorded_by: User | None = None,
    lines: Iterable[Mapping[str, Any]] | None = None, store: str = "",
) -> PurchaseResult:
    """A shop's order by the buyer's email: the contact (created when new, names only then)
    and the purchase in one transaction, so a refused purchase leaves no new contact behind.
    A known (source, external_id) returns the existing purchase. Lines as purchase_record."""
    known = purchase_known(source=source, external_id=external_id)
    if known is not None:
        return PurchaseResult(known, created=False)
    values, prepared = _purchase_values(purchased_at=purchased_at, amount=amount,
                                        currency=currency, channel=channel, lines=lines)
    with transaction.atomic():
        contact = contact_lock_or_create(email=email, first_name=first_name,
                                          last_name=last_name)
        return _purchase_insert(
            contact=contact, quantity=_items(quantity, prepared), source=source,
            external_id=external_id, code=code, recorded_by=recorded_by, lines=prepared,
            store=store, **values)


def _purchase_values(*, purchased_at: dt.datetime, amount: Decimal | None, currency: str,
                     channel: str, lines: Iterable[Mapping[str, Any]] | None,
                     ) -> tuple[dict, PreparedLines | None]:
    """The purchase's checked values and its checked lines (None: none given). Every
    problem at once, per field."""
    errors: dict[str, Any] = {}
    prepared = None
    lines = list(lines) if lines is not None else []
    if lines:
        try:
            prepared = lines_prepare(lines, currency=normalise_currency(currency),
                                     amount=amount)
            amount = prepared.amount
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                errors.update(error.error_dict)
            # else: the currency is wrong, which purchase_clean reports
    if amount is None and not errors:
        errors["amount"] = [ValidationError(gettext("Give the amount, or the lines it is "
                                                    "made of."), code="required")]
    values: dict = {}
    if amount is not None:
        try:
            values = purchase_clean(purchased_at=purchased_at, amount=amount,
                                    currency=currency)
        except ValidationError as error:
            for field, messages in error.error_dict.items():
                errors.setdefault(field, messages)
    try:
        values.update(_channel_values(channel))
    except ValidationError as error:
        errors.update(error.error_dict)
    if errors:
        raise ValidationError(errors)
    return values, prepared


def _items(quantity: int | None, prepared: PreparedLines | None) -> int:
    if quantity is not None:
        return quantity
    return prepared.items if prepared is not None else 1


def _channel_values(channel: str | None) -> dict[str, str]:
    """The shop's own label (or one of the five reporting values) as the purchase stores it:
    the label as written and its reporting channel (customers.channels). Only a label longer
    than the column is refused."""
    try:
        label, reporting = channel_resolve(channel)
    except ValidationError as error:
        raise ValidationError({"channel": error}) from None
    return {"channel_label": label, "channel": reporting}


def _purchase_insert(*, contact: Contact, source: str, external_id: str | None, code: str,
                     lines: PreparedLines | None = None, store: str = "",
                     **fields: Any) -> PurchaseResult:
    """The purchase, its code and its contact's figures, with the contact already locked."""
    external_id = (external_id or "").strip() or None
    purchase = Purchase(contact=contact, source=source, external_id=external_id,
                        code=code.strip(), **fields)
    if not insert_unless_conflict(purchase):
        # Recorded before (perhaps a moment ago by a concurrent retry, perhaps for another
        # contact): the first record stands.
        existing = purchase_known(source=source, external_id=external_id)
        if existing is None:  # SQLite's INSERT OR IGNORE also skips a failed CHECK
            raise IntegrityError("The database refused the purchase.")
        return PurchaseResult(existing, created=False)
    if lines is not None:
        lines_insert(purchase, lines.lines, store=store)
    # campaigns redeems a coupon or records a referral (inside this transaction, as before).
    outcome = next((answer for answer in hooks.purchase_created.call(purchase) if answer), "")
    label_seen(purchase.channel_label, purchase.channel)
    contacts_refresh_stats([contact.pk])
    _purchase_recorded_after_commit(contact.pk)  # re-score, then event campaigns
    return PurchaseResult(purchase, created=True, code_outcome=outcome)


def purchase_update(*, purchase: Purchase, **changes: Any) -> Purchase:
    """Correct a purchase (amount, currency, time, channel, items, code, contact).

    A changed code is applied again (hooks.purchase_code_changed: campaigns undoes the old
    code, applies the new one); what it did is on `purchase.code_outcome` ("" when the code
    did not change)."""
    old_contact_id, old_code = purchase.contact_id, purchase.code
    if "code" in changes:
        changes["code"] = (changes["code"] or "").strip()
    channel_changed = "channel_label" in changes or "channel" in changes
    if channel_changed:  # either one: a label, or a reporting value (the label then)
        changes.update(_channel_values(changes.pop("channel_label", changes.pop("channel", ""))))
    for field, value in changes.items():
        setattr(purchase, field, value)
    values = purchase_clean(
        purchased_at=purchase.purchased_at, amount=purchase.amount, currency=purchase.currency
    )
    has_lines = lines_check_update(purchase, amount=values["amount"],
                                   currency=values["currency"])
    with transaction.atomic():
        for contact_id in sorted({old_contact_id, purchase.contact_id}):
            lock_contact(contact_id)
        for field, value in values.items():
            setattr(purchase, field, value)
        purchase.save()
        if has_lines:
            lines_rebase(purchase)
        if channel_changed:
            label_seen(purchase.channel_label, purchase.channel)
        code_outcome = ""
        if purchase.code != old_code:
            code_outcome = next(
                (answer for answer in hooks.purchase_code_changed.call(purchase) if answer), "")
        # A note for the caller on this instance (the admin words it), not a model field.
        purchase.code_outcome = code_outcome  # type: ignore[attr-defined]
        contacts_refresh_stats({old_contact_id, purchase.contact_id})
        refresh_scores_after_commit({old_contact_id, purchase.contact_id})
    return purchase


def purchase_delete(*, purchase: Purchase) -> None:
    with transaction.atomic():
        lock_contact(purchase.contact_id)
        purchase.delete()
        contacts_refresh_stats([purchase.contact_id])
        refresh_scores_after_commit([purchase.contact_id])


def purchases_delete(*, purchases: QuerySet) -> int:
    with transaction.atomic():
        contact_ids = sorted(set(purchases.values_list("contact_id", flat=True)))
        # Lock in id order, as every writer does, so two bulk deletes cannot deadlock.
        list(Contact.objects.select_for_update().filter(pk__in=contact_ids)
             .order_by("pk").values_list("pk"))
        deleted, _by_model = purchases.delete()
        contacts_refresh_stats(contact_ids)
        refresh_scores_after_commit(contact_ids)
    return deleted
