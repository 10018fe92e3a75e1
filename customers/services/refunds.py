"""Refunds: in full or in part, adding up; a shop's running total may be sent again."""
import datetime as dt
from collections.abc import Iterator, Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext

from .. import hooks
from ..models import Purchase, PurchaseLine
from ..money import validate_amount
from ..stats import contacts_refresh_stats
from .locking import lock_contact
from .lines import minor_unit
from .purchases import refresh_scores_after_commit


def purchase_refund(*, purchase: Purchase, amount: Decimal | None = None,
                    refunded_at: dt.datetime | None = None,
                    lines: Mapping[int, Decimal] | None = None) -> Purchase:
    """Refund a purchase in full (no amount) or in part, in the purchase's currency.

    A full refund keeps the purchase on record and it stops counting (stage, figures, scores;
    a referral reward it earned and did not spend is withdrawn). A partial refund keeps it
    counting as a purchase and lowers what it is worth. Partial refunds add up; reaching the
    whole amount is a full refund. Refunding a purchase refunded in full changes nothing.

    `lines` ({line id: quantity}) refunds those quantities of the purchase's lines, checked
    against what was bought and refunded before; without an amount, the refund is worth
    their share of each line's total (capped at what is left), and refunding the last of
    every line is a full refund; an amount of 0 with lines takes the goods back and no more
    money (refunded before). A full refund refunds every line's whole quantity."""
    refunded_at = refunded_at or timezone.now()
    with transaction.atomic():
        lock_contact(purchase.contact_id)
        current = Purchase.objects.get(pk=purchase.pk)
        if current.refunded_at is None:
            line_refunds = refund_lines_check(current, lines) if lines else []
            if line_refunds and amount is None:
                left = current.amount - current.refunded_amount
                amount = min(sum((worth for _line, _quantity, worth in line_refunds),
                                 Decimal(0)), left)
                if _every_line_refunded(current, line_refunds):
                    amount = left  # the last of its goods: the rounding left over goes too
            if line_refunds and amount == 0:  # goods back, the money refunded before
                total = current.refunded_amount
            else:
                total = current.refunded_amount + refund_amount_check(current, amount)
            full = total == current.amount
            Purchase.objects.filter(pk=current.pk).update(
                refunded_amount=total, refunded_at=refunded_at if full else None,
                refunded_amount_base=_refunded_base(current, total, full=full))
            for line, quantity, _worth in line_refunds:
                PurchaseLine.objects.filter(pk=line.pk).update(
                    refunded_quantity=F("refunded_quantity") + quantity)
            if full:
                PurchaseLine.objects.filter(purchase=current).update(
                    refunded_quantity=F("quantity"))
            if full:  # campaigns: an unspent referral reward it earned is withdrawn
                hooks.purchase_refunded.call(current, at=refunded_at)
            contacts_refresh_stats([purchase.contact_id])
            refresh_scores_after_commit([purchase.contact_id])
    purchase.refresh_from_db()
    return purchase


def refund_lines_check(purchase: Purchase, lines: Mapping[int, Decimal],
                       ) -> list[tuple[PurchaseLine, Decimal, Decimal]]:
    """The lines to refund: (line, quantity, what that quantity is worth), each checked
    against the purchase's lines and what is left of them. Errors: {"lines": [...]}."""
    errors: list[str] = []
    checked = []
    for line, quantity in _own_lines(purchase, lines, errors):
        left = line.quantity - line.refunded_quantity
        if not quantity.is_finite() or quantity <= 0:
            errors.append(gettext("%(product)s: give a quantity to refund above zero.")
                          % {"product": line.product})
        elif quantity > left:
            errors.append(gettext("%(product)s: at most %(left)s can still be refunded.")
                          % {"product": line.product, "left": f"{left.normalize():f}"})
        else:
            worth = (line.total * quantity / line.quantity).quantize(
                minor_unit(purchase.currency), rounding=ROUND_HALF_UP)
            checked.append((line, quantity, worth))
    if errors:
        raise ValidationError({"lines": errors})
    return checked


def _own_lines(purchase: Purchase, lines: Mapping[int, Any], errors: list[str],
               ) -> Iterator[tuple[PurchaseLine, Decimal]]:
    """(line, the quantity given, NaN if not a number) for each of `lines` that is the
    purchase's; the others go to `errors`, named."""
    own = {line.pk: line for line in PurchaseLine.objects.filter(purchase=purchase)
           .select_related("product")}
    for line_id, raw in lines.items():
        line = own.get(_int(line_id) or 0)
        if line is None:
            errors.append(gettext("Line %(line)s is not a line of this purchase.")
                          % {"line": line_id})
            continue
        text = str(raw).strip()
        try:  # ASCII digits only, as the lines themselves (services.lines)
            quantity = (Decimal(text) if text.isascii() and "_" not in text
                        else Decimal("NaN"))
        except InvalidOperation:
            quantity = Decimal("NaN")
        yield line, quantity


def _every_line_refunded(purchase: Purchase,
                         line_refunds: list[tuple[PurchaseLine, Decimal, Decimal]]) -> bool:
    now = {line.pk: quantity for line, quantity, _worth in line_refunds}
    return all(line.refunded_quantity + now.get(line.pk, 0) >= line.quantity
               for line in PurchaseLine.objects.filter(purchase=purchase))


def _int(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _refunded_base(purchase: Purchase, total: Decimal, *, full: bool) -> Decimal:
    """The refunded part in the base currency; 0 while the purchase waits for its exchange
    rate (customers.services.rates converts both amounts together)."""
    if purchase.amount_base is None:
        return Decimal(0)
    if full:
        return purchase.amount_base
    return (purchase.amount_base * total / purchase.amount).quantize(Decimal("0.001"))


def purchase_refund_to(*, purchase: Purchase, refunded_total: Decimal | None = None,
                       lines: Mapping[int, Any] | None = None) -> tuple[Purchase, bool]:
    """Bring a purchase's refunded amount up to `refunded_total` (the order's total refunded
    so far, as the shop states it): sending the same total again changes nothing, so a shop
    may retry. Returns (purchase, changed). A total below what is refunded already is refused:
    a refund cannot be taken back.

    `lines` ({line id: quantity refunded so far}) brings the purchase's lines up to those
    quantities the same way (a retry changes nothing, a lower quantity is refused); without a
    total, the money refunded grows by what the newly refunded quantities are worth (as
    purchase_refund). Errors name the line; nothing changes when any is refused."""
    if refunded_total is None and not lines:
        raise ValidationError({"refunded_amount": ValidationError(
            gettext("Give the total refunded so far, or the lines refunded."),
            code="required")})
    with transaction.atomic():
        lock_contact(purchase.contact_id)
        current = Purchase.objects.get(pk=purchase.pk)
        amount = None
        if refunded_total is not None:
            try:
                refunded_total = validate_amount(refunded_total, current.currency)
            except ValidationError as error:
                raise ValidationError({"refunded_amount": error.messages}) from None
            if refunded_total < current.refunded_amount:
                raise ValidationError({"refunded_amount": ValidationError(
                    gettext("%(refunded)s of this purchase is refunded already; a refund "
                            "cannot be taken back.")
                    % {"refunded": _money(current.refunded_amount, current.currency)},
                    code="min_value")})
            amount = refunded_total - current.refunded_amount
        more = refund_lines_to_check(current, lines) if lines else {}
        if not more and not amount:
            purchase.refresh_from_db()
            return purchase, False
        try:
            return purchase_refund(purchase=current, amount=amount, lines=more or None), True
        except ValidationError as error:  # over the purchase's amount
            if "lines" in error.message_dict:
                raise
            raise ValidationError({"refunded_amount": error.messages}) from None


def refund_lines_to_check(purchase: Purchase, lines: Mapping[int, Any]) -> dict[int, Decimal]:
    """{line id: quantity refunded so far} as {line id: quantity to refund now}, leaving out
    the lines already there. Errors ({"lines": [...]}) name the line: one of another purchase,
    a quantity that is not a number, below what is refunded already or above what was
    bought."""
    errors: list[str] = []
    more = {}
    for line, so_far in _own_lines(purchase, lines, errors):
        if not so_far.is_finite() or so_far < 0:
            errors.append(gettext("Line %(line)s (%(product)s): give the quantity refunded so "
                                  "far as a number, zero or more.")
                          % {"line": line.pk, "product": line.product})
        elif so_far < line.refunded_quantity:
            errors.append(gettext("Line %(line)s (%(product)s): %(refunded)s refunded already; "
                                  "a refund cannot be taken back.")
                          % {"line": line.pk, "product": line.product,
                             "refunded": f"{line.refunded_quantity.normalize():f}"})
        elif so_far > line.quantity:
            errors.append(gettext("Line %(line)s (%(product)s): only %(quantity)s were bought.")
                          % {"line": line.pk, "product": line.product,
                             "quantity": f"{line.quantity.normalize():f}"})
        elif so_far > line.refunded_quantity:
            more[line.pk] = so_far - line.refunded_quantity
    if errors:
        raise ValidationError({"lines": errors})
    return more


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
