"""Refunds: in full or in part, adding up; a shop's running total may be sent again."""
import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .. import hooks
from ..models import Purchase
from ..money import validate_amount
from ..stats import contacts_refresh_stats
from .locking import lock_contact
from .purchases import refresh_scores_after_commit


def purchase_refund(*, purchase: Purchase, amount: Decimal | None = None,
                    refunded_at: dt.datetime | None = None) -> Purchase:
    """Refund a purchase in full (no amount) or in part, in the purchase's currency.

    A full refund keeps the purchase on record and it stops counting (stage, figures, scores;
    a referral reward it earned and did not spend is withdrawn). A partial refund keeps it
    counting as a purchase and lowers what it is worth. Partial refunds add up; reaching the
    whole amount is a full refund. Refunding a purchase refunded in full changes nothing."""
    refunded_at = refunded_at or timezone.now()
    with transaction.atomic():
        lock_contact(purchase.contact_id)
        current = Purchase.objects.get(pk=purchase.pk)
        if current.refunded_at is None:
            total = current.refunded_amount + refund_amount_check(current, amount)
            full = total == current.amount
            Purchase.objects.filter(pk=current.pk).update(
                refunded_amount=total, refunded_at=refunded_at if full else None,
                refunded_amount_base=_refunded_base(current, total, full=full))
            if full:  # campaigns: an unspent referral reward it earned is withdrawn
                hooks.purchase_refunded.call(current, at=refunded_at)
            contacts_refresh_stats([purchase.contact_id])
            refresh_scores_after_commit([purchase.contact_id])
    purchase.refresh_from_db()
    return purchase


def _refunded_base(purchase: Purchase, total: Decimal, *, full: bool) -> Decimal:
    """The refunded part in the base currency; 0 while the purchase waits for its exchange
    rate (customers.services.rates converts both amounts together)."""
    if purchase.amount_base is None:
        return Decimal(0)
    if full:
        return purchase.amount_base
    return (purchase.amount_base * total / purchase.amount).quantize(Decimal("0.001"))


def purchase_refund_to(*, purchase: Purchase,
                       refunded_total: Decimal) -> tuple[Purchase, bool]:
    """Bring a purchase's refunded amount up to `refunded_total` (the order's total refunded
    so far, as the shop states it): sending the same total again changes nothing, so a shop
    may retry. Returns (purchase, changed). A total below what is refunded already is refused:
    a refund cannot be taken back."""
    with transaction.atomic():
        lock_contact(purchase.contact_id)
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


def _money(amount: Decimal, currency: str) -> str:
    """As the reader expects it: "$100.00", "100,00 €"."""
    from ..templatetags.money import money

    return money(amount, currency)
