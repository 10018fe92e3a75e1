"""Turning what people type or files contain into clean values, with clear errors."""
import datetime as dt
import functools
import re
import unicodedata
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.shop import shop

EARLIEST_PURCHASE = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def shop_timezone() -> ZoneInfo:
    return shop().zone


def normalise_email(raw: str) -> str:
    """Trimmed and lower-cased; one address per contact whatever the capitalisation."""
    email = (raw or "").strip().lower()
    if not email:
        raise ValidationError(_("Email is required."))
    try:
        validate_email(email)
    except ValidationError:
        raise ValidationError(
            _("%(value)s is not a valid email address."), params={"value": raw.strip()[:80]}
        ) from None
    return email


def parse_purchase_time(text: str, *, date_order: str | None = None) -> dt.datetime:
    """ISO 8601 date or date-time. A date, or a time without offset, is in the shop's zone.

    With a date_order (the import: "day-first", "month-first" or "auto"), dates as
    spreadsheets write them are read too: 05.12.2026, 05.12.2026 14:30, 5/12/2026,
    05/12/2026 14:30:00 in that order ("auto": only where the date itself tells, a day > 12),
    and Excel's date numbers (46361, 46361.5)."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError(_("Purchase date is required."))
    if date_order is not None and cleaned[4:5] != "-" and _spreadsheet_parts(cleaned):
        return _spreadsheet_time(cleaned, date_order)  # not ISO: no exception to pay for
    try:
        if len(cleaned) == 10:
            day = dt.date.fromisoformat(cleaned)
            return dt.datetime.combine(day, dt.time(0), tzinfo=shop_timezone())
        value = dt.datetime.fromisoformat(cleaned)
    except ValueError:
        if date_order is not None:
            return _spreadsheet_time(cleaned, date_order)
        raise ValidationError(
            _("Purchase date %(value)s is not an ISO 8601 date (2024-05-31) or date-time "
              "(2024-05-31T14:30:00+03:00)."),
            params={"value": cleaned[:40]},
        ) from None
    if timezone.is_naive(value):
        value = value.replace(tzinfo=shop_timezone())
    return value


def validate_purchase_time(value: dt.datetime, *, now: dt.datetime | None = None) -> dt.datetime:
    """Reject times without a zone, before 1970, or further in the future than tolerated."""
    if timezone.is_naive(value):
        raise ValidationError(_("Purchase time needs a time zone."))
    now = now or timezone.now()
    if value < EARLIEST_PURCHASE:
        raise ValidationError(_("Purchase date is before 1970."))
    if value > now + dt.timedelta(hours=settings.CRM_FUTURE_TOLERANCE_HOURS):
        raise ValidationError(_("Purchase date is in the future."))
    return value


def shop_day(value: dt.datetime) -> dt.date:
    """The shop-local calendar day of a moment: one customer-day is one transaction."""
    return value.astimezone(shop_timezone()).date()


def channel_key(label: str) -> str:
    """The label as matched: trimmed, inner spaces collapsed, compatibility-normalised and
    case-folded, with the Turkish dotted İ and dotless ı read as i ("İNTERNET", "ınternet"
    and "Internet" are one label)."""
    text = unicodedata.normalize("NFKC", " ".join(label.split()))
    return unicodedata.normalize(
        "NFC", text.replace("İ", "i").replace("ı", "i").casefold().replace("i\u0307", "i"))


# --- Dates as spreadsheets write them (the import) ------------------------------------------

DAY_FIRST, MONTH_FIRST, AUTO = "day-first", "month-first", "auto"
AMBIGUOUS = "ambiguous"
DATE_ORDERS = (AUTO, DAY_FIRST, MONTH_FIRST)
# Shops whose language or time zone writes dates day-first: "auto" reads their files so. A
# small explicit list; any other shop's file has to tell (a day > 12) or be told.
DAY_FIRST_LANGUAGES = frozenset({
    "tr", "de", "fr", "es", "it", "pt", "nl", "pl", "ru", "uk", "el", "da", "sv", "nb", "fi",
    "cs", "ro", "hu", "az", "en-gb", "en-au", "en-nz", "en-ie", "en-in",
})
DAY_FIRST_TIME_ZONES = frozenset({
    "Europe/Istanbul", "Asia/Istanbul", "Turkey", "Europe/London", "Europe/Dublin",
    "Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Amsterdam",
    "Europe/Brussels", "Europe/Vienna", "Europe/Zurich", "Europe/Lisbon", "Europe/Warsaw",
    "Europe/Athens", "Europe/Moscow", "Europe/Kiev", "Europe/Kyiv", "Asia/Baku",
    "Australia/Sydney", "Australia/Melbourne",
})
# 05.12.2026, 5/12/2026, 05-12-2026, then optionally a time: 14:30 or 14:30:00. ASCII digits.
_SPREADSHEET_DAY = re.compile(r"([0-9]{1,2})([./-])([0-9]{1,2})\2([0-9]{4})")
_CLOCK = re.compile(r"([0-9]{1,2}):([0-9]{2})(?::([0-9]{2}))?")
# Excel's serial day numbers (days since 1899-12-30), 1970 to 2173: 25569 is 1970-01-01.
_EXCEL_SERIAL = re.compile(r"[0-9]{5}(?:\.[0-9]+)?")
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)


def shop_day_first() -> bool:
    """Does the shop's language or time zone write dates day-first (DAY_FIRST_LANGUAGES)?"""
    language = settings.LANGUAGE_CODE.lower().replace("_", "-")
    return (language in DAY_FIRST_LANGUAGES or language.split("-")[0] in DAY_FIRST_LANGUAGES
            or settings.TIME_ZONE in DAY_FIRST_TIME_ZONES)


# A file's dates repeat (a few hundred days, 1,440 minutes): each text is read once.
@functools.lru_cache(maxsize=4096)
def _day_numbers(text: str) -> tuple[int, int, int] | None:
    """(first number, second number, year) of 05.12.2026, else None."""
    found = _SPREADSHEET_DAY.fullmatch(text)
    return (int(found[1]), int(found[3]), int(found[4])) if found else None


@functools.lru_cache(maxsize=4096)
def _clock(text: str) -> tuple[int, int, int] | None:
    found = _CLOCK.fullmatch(text)
    return (int(found[1]), int(found[2]), int(found[3] or 0)) if found else None


def _spreadsheet_parts(text: str) -> tuple[tuple[int, int, int], tuple[int, int, int]] | None:
    """The day's numbers and the time of "05.12.2026 14:30" (or "05.12.2026T14:30"), else None."""
    day_text, _space, clock_text = text.strip().partition(" ")
    if not _space and "T" in day_text:
        day_text, _t, clock_text = day_text.partition("T")
    day = _day_numbers(day_text)
    if day is None:
        return None
    clock = _clock(clock_text.strip()) if clock_text else (0, 0, 0)
    return None if clock is None else (day, clock)


def date_order_of(text: str) -> str | None:
    """What a spreadsheet date itself says of its order: DAY_FIRST (25.12.2026), MONTH_FIRST
    (12/25/2026), AMBIGUOUS (05.12.2026), or None (not such a date, or neither reading)."""
    parts = _spreadsheet_parts(text)
    if parts is None:
        return None
    first, second, _year = parts[0]
    if first <= 12 and second <= 12:
        return AMBIGUOUS
    if second <= 12:
        return DAY_FIRST
    if first <= 12:
        return MONTH_FIRST
    return None


def _spreadsheet_time(text: str, date_order: str) -> dt.datetime:
    parts = _spreadsheet_parts(text)
    if parts is None:
        if _EXCEL_SERIAL.fullmatch(text):
            return _excel_time(text)
        raise ValidationError(
            _("Purchase date %(value)s is not a date this import reads: write 2024-05-31 or "
              "2024-05-31 14:30 (ISO 8601), 31.05.2024 14:30 or 31/05/2024, or an Excel date "
              "number."), params={"value": text[:40]})
    (first, second, year), (hour, minute, second_of_minute) = parts
    order = date_order
    if order == AUTO:
        order = date_order_of(text) or DAY_FIRST
    if order == AMBIGUOUS:
        raise ValidationError(
            _("Purchase date %(value)s could be read day-first or month-first: choose the date "
              "order on the import form or with --date-order."), params={"value": text[:40]})
    day, month = (first, second) if order == DAY_FIRST else (second, first)
    try:
        return dt.datetime(year, month, day, hour, minute, second_of_minute,
                           tzinfo=shop_timezone())
    except ValueError:
        if order == DAY_FIRST:
            message = _("Purchase date %(value)s is not a date read day-first (day.month.year, "
                        "such as 31.05.2024); if the file writes month first, choose "
                        "month-first on the import form or with --date-order.")
        else:
            message = _("Purchase date %(value)s is not a date read month-first "
                        "(month/day/year, such as 05/31/2024); if the file writes the day "
                        "first, choose day-first on the import form or with --date-order.")
        raise ValidationError(message, params={"value": text[:40]}) from None


def _excel_time(text: str) -> dt.datetime:
    """An Excel date number in the shop's zone, to the second (46361.5 is noon)."""
    serial = Decimal(text)
    seconds = int((serial * 86400).to_integral_value())
    moment = _EXCEL_EPOCH + dt.timedelta(seconds=seconds)
    return moment.replace(tzinfo=shop_timezone())
