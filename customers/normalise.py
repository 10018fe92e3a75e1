"""Turning what people type or files contain into clean values, with clear errors."""
import datetime as dt
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


def parse_purchase_time(text: str) -> dt.datetime:
    """ISO 8601 date or date-time. A date, or a time without offset, is in the shop's zone."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise ValidationError(_("Purchase date is required."))
    try:
        if len(cleaned) == 10:
            day = dt.date.fromisoformat(cleaned)
            return dt.datetime.combine(day, dt.time(0), tzinfo=shop_timezone())
        value = dt.datetime.fromisoformat(cleaned)
    except ValueError:
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
