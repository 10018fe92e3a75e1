"""Amounts and currencies: ISO 4217 codes, minor units, conversion to the base currency.

Currency data comes from Babel (CLDR), so codes and decimal places are the standard ones.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from babel.numbers import get_currency_precision, list_currencies
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from crm.shop import shop

# Largest amount accepted for one purchase: fits the column with room for the base conversion.
MAX_AMOUNT = Decimal("99999999999")
# Purchase.amount keeps 3 places: enough for every circulating currency. CLF and UYW, units of
# account with 4, are accepted to 3 places rather than failing in the database.
STORED_DECIMAL_PLACES = 3
# Every ISO 4217 code but the two that name no money: XXX (no currency) and XTS (testing).
_CURRENCIES = frozenset(list_currencies()) - {"XXX", "XTS"}


def base_currency() -> str:
    return shop().base_currency


def known_currency(code: str) -> bool:
    """Whether `code` is an ISO 4217 currency code (upper case)."""
    return code in _CURRENCIES


def normalise_currency(code: str) -> str:
    """Return the upper-case ISO 4217 code, or raise ValidationError."""
    cleaned = (code or "").strip().upper()
    if not cleaned:
        raise ValidationError(_("Currency is required (an ISO 4217 code such as USD)."))
    if cleaned not in _CURRENCIES:
        raise ValidationError(
            _("Unknown currency %(code)s: use an ISO 4217 code such as USD, EUR or TRY."),
            params={"code": code.strip()[:10]},
        )
    return cleaned


def parse_amount(text: str) -> Decimal:
    """Parse a plain decimal amount with a dot as decimal separator ("1234.50")."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError(_("Amount is required."))
    if "," in cleaned:
        raise ValidationError(
            _("Amount %(value)s has a comma: write amounts like 1234.50, without thousands "
              "separators."),
            params={"value": cleaned[:30]},
        )
    # Decimal() reads any script's digits ("١٢" is 12) and underscores ("1_000"): an amount
    # is what it looks like, in the digits 0-9, or it is refused.
    if not cleaned.isascii() or "_" in cleaned:
        raise ValidationError(
            _("Amount %(value)s is not a number written with the digits 0-9 and a dot, such "
              "as 1234.50."),
            params={"value": cleaned[:30]},
        )
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise ValidationError(
            _("Amount %(value)s is not a number."), params={"value": cleaned[:30]}
        ) from None
    return amount


def validate_amount(amount: Decimal, currency: str) -> Decimal:
    """Check an amount for a currency: finite, not negative, not too many decimal places."""
    if not amount.is_finite():
        raise ValidationError(_("Amount must be a finite number."))
    if amount < 0:
        raise ValidationError(_("Amount cannot be negative; record a refund instead."))
    if amount > MAX_AMOUNT:
        raise ValidationError(_("Amount is too large."))
    places = min(get_currency_precision(currency), STORED_DECIMAL_PLACES)
    if amount != amount.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError(
            _("%(currency)s amounts have at most %(places)s decimal places."),
            params={"currency": currency, "places": places},
        )
    return amount


def to_base(amount: Decimal, rate: Decimal | None) -> Decimal | None:
    """Convert to the base currency at `rate` (base units per one unit); None, provisional,
    without a rate (customers.services.rates). Rounded half up, as the database's ROUND
    converts the purchases that waited for their rate."""
    if rate is None:
        return None
    return (amount * rate).quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)
