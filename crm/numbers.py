"""Numbers and percentages as people in the active language write them (CLDR data through
Babel): "3%" and "1,234.5" in English, "%3" and "1.234,5" in Turkish.

Every percentage shown to a person goes through `percent`, so no screen writes "3%" to a
Turkish reader. Machine output (CSV columns, JSON, log lines) keeps plain numbers.
"""
import functools
from decimal import ROUND_HALF_EVEN, Decimal

from babel import Locale
from babel.numbers import format_decimal, format_percent
from django.utils.translation import get_language, to_locale


@functools.cache
def _babel_locale(name: str) -> Locale:
    return Locale.parse(name)


def active_locale() -> Locale:
    """The Babel locale of the active Django language ("en" outside a request)."""
    return _babel_locale(to_locale(get_language() or "en"))


def _rounded(value, digits: int) -> Decimal:
    """Rounded as Python's format() rounds ("{:.0%}"): half to even, floats by their exact
    binary value, so a page and a CSV export agree on every figure."""
    exact = value if isinstance(value, Decimal) else Decimal(float(value))
    return exact.quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_EVEN)


def percent(value, digits: int = 0) -> str:
    """A share (0.125 for 12.5 %) with at most `digits` decimals: "13%" / "%13" (tr);
    "—" for None."""
    if value is None:
        return "—"
    return format_percent(_rounded(value, digits + 2), locale=active_locale(),
                          decimal_quantization=False)


def percent_points(value, digits: int = 0) -> str:
    """A value already in percent (12.5 for 12.5 %): "12.5%" / "%12,5" (tr)."""
    if value is None:
        return "—"
    exact = value if isinstance(value, Decimal) else Decimal(float(value))
    return percent(exact / 100, digits)


def number(value, digits: int = 0) -> str:
    """A number with the locale's group and decimal separators: "1,234.5" / "1.234,5" (tr)."""
    if value is None:
        return "—"
    return format_decimal(_rounded(value, digits), locale=active_locale(),
                          decimal_quantization=False)


def percent_range(low: int, high: int) -> str:
    """A band of whole percents: "10–20%" in English, "%10–20" in Turkish."""
    sample = percent(0.01)
    if sample.startswith("%"):
        return f"%{low}–{high}"
    return f"{low}–{high}%"
