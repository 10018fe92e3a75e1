"""Money as people in the active language expect it: symbol, placement, separators, decimals
per currency (CLDR data through Babel): "$1,234.50" in English, "1.234,50 $" in Turkish,
"¥1,500" for yen."""
import functools
from decimal import Decimal, InvalidOperation

from babel import Locale
from babel.numbers import format_currency
from django import template
from django.utils.translation import get_language, to_locale

register = template.Library()


def _locale() -> Locale:
    return _babel_locale(to_locale(get_language() or "en"))


@functools.cache
def _babel_locale(name: str) -> Locale:
    """Parsed once per language: format_currency given a name parses it on every call, which
    was most of the cost of a money cell (a contact list page has 25)."""
    return Locale.parse(name)


@register.filter
def money(value, currency: str) -> str:
    """{{ amount|money:"USD" }}"""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return format_currency(amount, currency, locale=_locale())


@register.filter
def money_whole(value, currency: str) -> str:
    """{{ amount|money_whole:"USD" }}: rounded to whole units, for badges and charts."""
    if value in (None, ""):
        return "—"
    try:
        amount = Decimal(str(value)).quantize(Decimal(1))
    except InvalidOperation:
        return str(value)
    return format_currency(amount, currency, locale=_locale(), format="¤#,##0",
                           currency_digits=False)
