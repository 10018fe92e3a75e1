"""Order lines and the product catalogue they keep.

A purchase may carry lines: a product (the shop's SKU or product id; a line without one is
keyed by its product name), its name and category, a quantity (decimal: weighed goods), a
unit price and a discount, all in the purchase's currency. Lines go in only through the
purchase service (customers.services.purchases.purchase_record), in the purchase's
transaction, so codes, stages, scores and events behave as for any other purchase; a retried
order (same source and external id) adds no lines.

The amount and the lines (decided here, documented in docs/architecture.md):
- a line's total is quantity x unit price - discount, rounded half up to the currency's minor
  unit; a discount larger than the line's price, a quantity of zero or less, a negative price
  are refused, each naming its line;
- a purchase given lines and no amount is worth what its lines add up to;
- a purchase given both must agree with its lines within rounding: one minor unit per line
  (a shop that rounds each line's tax on its own). Shipping and fees are not lines: leave them
  out of the amount, or give the order-level charge to the lines (as shops allocate an order
  discount) so they add up;
- the purchase's items (Purchase.quantity) are the lines' quantities added up, a weighed line
  counting as one item.

The catalogue (Product) is kept from what orders bring, set-based: a product new to its store
is created, a changed name or category is updated (an empty one never blanks what is known).
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from babel.numbers import get_currency_precision
from django.core.exceptions import ValidationError
from django.db.models import DecimalField, F, Value
from django.db.models.functions import Round
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from ..models import Product, Purchase, PurchaseLine
from ..money import MAX_AMOUNT, STORED_DECIMAL_PLACES, base_currency, to_base, validate_amount
from .rates import RateBook

SKU_MAX_LENGTH: int = Product._meta.get_field("sku").max_length or 128
NAME_MAX_LENGTH: int = Product._meta.get_field("name").max_length or 255
QUANTITY_PLACES = 3
MAX_QUANTITY = Decimal("999999999")
# How many lines one purchase may carry (a wholesale order is long; a runaway payload is not).
MAX_LINES = 500
_CHUNK = 900  # SKUs per IN (...): within SQLite's variable limit


@dataclass(frozen=True)
class LineIn:
    """One checked line, ready to store."""

    sku: str
    name: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal
    total: Decimal


@dataclass(frozen=True)
class PreparedLines:
    lines: tuple[LineIn, ...]
    amount: Decimal  # the purchase's amount: as given, or the lines added up
    items: int  # Purchase.quantity


def minor_unit(currency: str) -> Decimal:
    places = min(get_currency_precision(currency), STORED_DECIMAL_PLACES)
    return Decimal(1).scaleb(-places)


def _decimal(value: Any) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        value = repr(value)
    text = str(value if value is not None else "").strip()
    if not text or not text.isascii() or "_" in text or "," in text:
        raise InvalidOperation
    return Decimal(text)


def _line_error(number: int, message: str) -> str:
    return gettext("Line %(number)s: %(problem)s") % {"number": number, "problem": message}


# The number fields and their labels, translated only when a message names one (a backfill
# checks hundreds of thousands of lines: three gettext calls per line were a third of it).
_NUMBER_FIELDS = (("quantity", gettext_lazy("quantity"), None),
                  ("unit_price", gettext_lazy("unit price"), None),
                  ("discount", gettext_lazy("discount"), Decimal(0)))


def line_clean(line: Mapping[str, Any], *, currency: str, number: int = 1) -> LineIn:
    """One line checked against the purchase's currency; ValidationError names the line."""
    def fail(message: str) -> ValidationError:
        return ValidationError(_line_error(number, message), code="invalid_line")

    sku = str(line.get("sku") or "").strip()
    name = " ".join(str(line.get("name") or "").split())
    category = " ".join(str(line.get("category") or "").split())
    if not sku and not name:
        raise fail(gettext("give the product's SKU or its name."))
    if len(sku) > SKU_MAX_LENGTH:
        raise fail(gettext("the SKU is longer than %(max)s characters.") % {"max": SKU_MAX_LENGTH})
    if len(name) > NAME_MAX_LENGTH or len(category) > NAME_MAX_LENGTH:
        raise fail(gettext("the product name or category is longer than %(max)s characters.")
                   % {"max": NAME_MAX_LENGTH})
    values = {}
    for field, label, default in _NUMBER_FIELDS:
        raw = line.get(field)
        if raw in (None, "") and default is not None:
            values[field] = default
            continue
        try:
            value = _decimal(raw)
        except (InvalidOperation, ValueError, TypeError):
            raise fail(gettext("the %(field)s %(value)s is not a number written with the "
                               "digits 0-9 and a dot.")
                       % {"field": label, "value": str(raw)[:30]}) from None
        if not value.is_finite():
            raise fail(gettext("the %(field)s must be a finite number.") % {"field": label})
        values[field] = value
    quantity = values["quantity"]
    if quantity <= 0:
        raise fail(gettext("the quantity must be above zero; record a refund to take goods "
                           "back."))
    if quantity > MAX_QUANTITY or quantity != quantity.quantize(Decimal(1).scaleb(
            -QUANTITY_PLACES)):
        raise fail(gettext("the quantity has more than %(places)s decimal places or is too "
                           "large.") % {"places": QUANTITY_PLACES})
    for field, label, _default in _NUMBER_FIELDS[1:]:
        try:
            values[field] = validate_amount(values[field], currency)
        except ValidationError as error:
            raise fail(gettext("the %(field)s: %(problem)s")
                       % {"field": label, "problem": " ".join(error.messages)}) from None
    total = (quantity * values["unit_price"] - values["discount"]).quantize(
        minor_unit(currency), rounding=ROUND_HALF_UP)
    if total < 0:
        raise fail(gettext("the discount is larger than the line's price."))
    if total > MAX_AMOUNT:
        raise fail(gettext("the line's total is too large."))
    return LineIn(sku=sku or name, name=name, category=category, quantity=quantity,
                  unit_price=values["unit_price"], discount=values["discount"], total=total)


def _check_count(count: int) -> None:
    if count > MAX_LINES:
        raise ValidationError({"lines": ValidationError(
            gettext("A purchase has at most %(max)s lines.") % {"max": MAX_LINES},
            code="max_length")})


def lines_prepare(lines: Iterable[Mapping[str, Any]], *, currency: str,
                  amount: Decimal | None) -> PreparedLines:
    """Check the lines and reconcile them with the purchase's amount (the module's rules).

    Errors: {"lines": [one message per bad line]} or {"amount": ...}."""
    lines = list(lines)
    _check_count(len(lines))
    errors: list[ValidationError] = []
    cleaned: list[LineIn] = []
    for number, line in enumerate(lines, start=1):
        try:
            cleaned.append(line_clean(line, currency=currency, number=number))
        except ValidationError as error:
            errors.append(error)
    if errors:
        raise ValidationError({"lines": errors})
    return lines_reconcile(cleaned, currency=currency, amount=amount)


def lines_reconcile(cleaned: list[LineIn], *, currency: str,
                    amount: Decimal | None) -> PreparedLines:
    """Lines already checked one by one (line_clean) reconciled with the purchase's amount:
    the second half of lines_prepare, for callers that check each line as they read it (the
    CSV import reports each line's row) and must not check it twice."""
    _check_count(len(cleaned))
    added = sum((line.total for line in cleaned), Decimal(0))
    if amount is None:
        amount = added
    else:
        try:
            given = _decimal(amount)
        except (InvalidOperation, ValueError, TypeError):
            given = None
        if given is not None and given.is_finite() and cleaned and (
                abs(given - added) > minor_unit(currency) * len(cleaned)):
            raise ValidationError({"amount": ValidationError(
                gettext("The lines add up to %(lines)s but the purchase's amount is "
                        "%(amount)s: give the amount the lines come to, or leave it out.")
                % {"lines": added, "amount": given}, code="lines_mismatch")})
    items = sum((int(line.quantity) if line.quantity == line.quantity.to_integral_value()
                 else 1 for line in cleaned), 0)
    return PreparedLines(tuple(cleaned), amount, max(items, 1) if cleaned else 1)


def products_keep(store: str, seen: Mapping[str, tuple[str, str]]) -> dict[str, int]:
    """The catalogue's ids of these SKUs, creating the new ones and updating a changed name
    or category (an empty one keeps what is known). `seen`: sku -> (name, category), the
    latest order's. A few queries whatever the number of products."""
    if not seen:
        return {}
    skus = sorted(seen)
    known = {}
    for start in range(0, len(skus), _CHUNK):
        known.update({sku: (pk, name, category) for pk, sku, name, category in
                      Product.objects.filter(store=store, sku__in=skus[start:start + _CHUNK])
                      .values_list("pk", "sku", "name", "category")})
    new = [Product(store=store, sku=sku, name=seen[sku][0], category=seen[sku][1])
           for sku in skus if sku not in known]
    if new:
        # A concurrent order may create the same product: the first one stands.
        Product.objects.bulk_create(new, ignore_conflicts=True, batch_size=500)
    changed = []
    for sku, (pk, name, category) in sorted(known.items()):  # SKU order: no deadlocks
        new_name, new_category = seen[sku]
        if (new_name and new_name != name) or (new_category and new_category != category):
            changed.append(Product(pk=pk, name=new_name or name,
                                   category=new_category or category))
    if changed:
        now = timezone.now()
        for product in changed:
            product.updated_at = now
        Product.objects.bulk_update(changed, ["name", "category", "updated_at"],
                                    batch_size=500)
    ids = {sku: pk for sku, (pk, _name, _category) in known.items()}
    new_skus = [product.sku for product in new]
    for start in range(0, len(new_skus), _CHUNK):
        ids.update(Product.objects.filter(store=store, sku__in=new_skus[start:start + _CHUNK])
                   .values_list("sku", "pk"))
    return ids


def lines_seen(lines: Iterable[LineIn]) -> dict[str, tuple[str, str]]:
    seen: dict[str, tuple[str, str]] = {}
    for line in lines:
        name, category = seen.get(line.sku, ("", ""))
        seen[line.sku] = (line.name or name, line.category or category)
    return seen


# PurchaseLine's columns a new line is written with, in line_values' order.
LINE_FIELDS = ("purchase_id", "product_id", "quantity", "unit_price", "discount", "total",
               "total_base")


def line_values(purchase_id: int, lines: Iterable[LineIn], product_ids: Mapping[str, int], *,
                rate: Decimal | None, in_base: bool) -> list[tuple]:
    """The new PurchaseLine rows of one purchase as tuples of LINE_FIELDS. `in_base`: the
    purchase is in the base currency (totals are their own base amounts); else `rate` (None:
    provisional)."""
    return [(purchase_id, product_ids[line.sku], line.quantity, line.unit_price, line.discount,
             line.total, line.total if in_base else to_base(line.total, rate))
            for line in lines]


def line_rows(purchase_id: int, lines: Iterable[LineIn], product_ids: Mapping[str, int], *,
              rate: Decimal | None, in_base: bool) -> list[PurchaseLine]:
    """line_values as unsaved PurchaseLine instances."""
    return line_instances(line_values(purchase_id, lines, product_ids, rate=rate,
                                      in_base=in_base))


def line_instances(rows: Iterable[tuple]) -> list[PurchaseLine]:
    """Unsaved PurchaseLine instances of line_values' tuples."""
    return [PurchaseLine(**dict(zip(LINE_FIELDS, values, strict=True))) for values in rows]


def lines_insert(purchase: Purchase, lines: Iterable[LineIn], *, store: str = "",
                 rates: RateBook | None = None) -> list[PurchaseLine]:
    """Store a new purchase's lines (inside its transaction) and keep the catalogue."""
    lines = list(lines)
    if not lines:
        return []
    product_ids = products_keep(store, lines_seen(lines))
    in_base = purchase.currency == base_currency()
    rate = None
    if not in_base and purchase.amount_base is not None:
        rate = (rates or RateBook()).rate_on(purchase.currency, purchase.purchased_on)
    rows = line_rows(purchase.pk, lines, product_ids, rate=rate, in_base=in_base)
    return PurchaseLine.objects.bulk_create(rows)


def lines_check_update(purchase: Purchase, *, amount: Decimal, currency: str) -> bool:
    """A correction of a purchase with lines keeps them true: the currency cannot change
    under them, and the amount must still agree with them (the rules above). Returns
    whether the purchase has lines."""
    if purchase.pk is None:
        return False
    stored = list(PurchaseLine.objects.filter(purchase_id=purchase.pk)
                  .values_list("total", "purchase__currency"))
    if not stored:
        return False
    totals = [total for total, _currency in stored]
    old_currency = stored[0][1]
    if currency != old_currency:
        raise ValidationError({"currency": ValidationError(gettext(
            "This purchase has lines priced in %(currency)s: its currency cannot change.")
            % {"currency": old_currency}, code="lines_currency")})
    added = sum(totals, Decimal(0))
    if abs(amount - added) > minor_unit(currency) * len(totals):
        raise ValidationError({"amount": ValidationError(
            gettext("The lines add up to %(lines)s but the purchase's amount is "
                    "%(amount)s: give the amount the lines come to, or leave it out.")
            % {"lines": added, "amount": amount}, code="lines_mismatch")})
    return True


def lines_rebase(purchase: Purchase) -> int:
    """Give a corrected purchase's lines the base amounts of its (perhaps new) day's rate."""
    lines = PurchaseLine.objects.filter(purchase_id=purchase.pk)
    if purchase.amount_base is None:
        return lines.update(total_base=None)
    if purchase.currency == base_currency():
        return lines.update(total_base=F("total"))
    rate = RateBook().rate_on(purchase.currency, purchase.purchased_on)
    at_rate = Value(rate, output_field=DecimalField(max_digits=24, decimal_places=12))
    return lines.update(total_base=Round(F("total") * at_rate, 3))
