"""The shop's settings: name, base currency, time zone, default language, sender.

`shop()` is the one way to read them. Each value comes from, in order: the environment
(CRM_SHOP_NAME, CRM_BASE_CURRENCY, CRM_TIME_ZONE, CRM_LANGUAGE_CODE, DEFAULT_FROM_EMAIL: a
deployment's choice, shown read-only on the page), the row a manager saved on the shop settings
page (crm.models.ShopSettings), then the settings' defaults.

Cached per process for CACHE_SECONDS: a save clears this process's copy at once, other processes
(web workers, Celery) see it within CACHE_SECONDS. Django's own TIME_ZONE and LANGUAGE_CODE stay
the settings' (the admin's dates, the fallback language of pages).
"""
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr
from zoneinfo import ZoneInfo, available_timezones

from babel.numbers import list_currencies
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.core.validators import validate_email
from django.db import transaction
from django.utils.translation import gettext as _

CACHE_SECONDS = 10
FIELDS = ("name", "base_currency", "time_zone", "default_language", "sender_name",
          "sender_email")
# The environment variable that sets each field (both sender fields come from one address).
ENVIRONMENT = {"name": "CRM_SHOP_NAME", "base_currency": "CRM_BASE_CURRENCY",
               "time_zone": "CRM_TIME_ZONE", "default_language": "CRM_LANGUAGE_CODE",
               "sender_name": "DEFAULT_FROM_EMAIL", "sender_email": "DEFAULT_FROM_EMAIL"}
# Stored figures depend on these: Purchase.amount_base (base currency), purchased_on (time zone).
STORED_IN_FIGURES = ("base_currency", "time_zone")
CURRENCIES = frozenset(list_currencies()) - {"XXX", "XTS"}


@dataclass(frozen=True)
class Shop:
    name: str
    base_currency: str
    time_zone: str
    default_language: str
    sender_name: str
    sender_email: str
    saved: bool = False  # a manager saved the settings page at least once
    set_by_deployment: frozenset[str] = frozenset()  # field names the environment sets

    @property
    def from_email(self) -> str:
        """The From of the shop's emails: "Name <address>", quoted where the name needs it
        (Django encodes a non-ASCII name when it sends)."""
        if not self.sender_name:
            return self.sender_email
        return str(Address(display_name=self.sender_name, addr_spec=self.sender_email))

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


_cache: dict = {}
_lock = threading.Lock()


def shop() -> Shop:
    """The shop's effective settings (environment, then the saved row, then defaults)."""
    cached = _cache.get("shop")
    if cached and cached[0] > time.monotonic():
        return cached[1]
    value = _load()
    with _lock:
        _cache["shop"] = (time.monotonic() + CACHE_SECONDS, value)
    return value


def shop_cache_clear() -> None:
    _cache.clear()


def shop_cache_assume_unsaved(expires: float = float("inf")) -> None:
    """For tests, which start with an empty table: cache what shop() reads when no row was
    ever saved, so that the test's query counts do not depend on which test read it first."""
    with _lock:
        _cache["shop"] = (expires, Shop(**defaults(), set_by_deployment=set_by_deployment()))


def _settings_changed(**kwargs) -> None:
    # Tests change settings (the `settings` fixture): the next read must see them.
    cached = _cache.get("shop")
    if cached and not cached[1].saved:
        shop_cache_assume_unsaved(expires=cached[0])
    else:
        shop_cache_clear()


setting_changed.connect(_settings_changed, dispatch_uid="crm.shop.settings_changed")


def defaults() -> dict:
    """The settings' values: the environment's where set, else the built-in defaults."""
    sender_name, sender_email = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return {"name": settings.CRM_SHOP_NAME, "base_currency": settings.CRM_BASE_CURRENCY,
            "time_zone": settings.TIME_ZONE, "default_language": settings.LANGUAGE_CODE,
            "sender_name": sender_name, "sender_email": sender_email}


def set_by_deployment() -> frozenset[str]:
    names = settings.CRM_SHOP_SET_BY_DEPLOYMENT
    return frozenset(field for field, variable in ENVIRONMENT.items() if variable in names)


def _load() -> Shop:
    from .models import ShopSettings

    values = defaults()
    fixed = set_by_deployment()
    row = ShopSettings.objects.filter(pk=1).first()
    if row is not None:
        values.update({field: getattr(row, field) for field in FIELDS if field not in fixed})
    return Shop(**values, saved=row is not None, set_by_deployment=fixed)


# Checks that say why a stored-in-figures value may not change (e.g. "purchases exist"):
# registered by the apps that store such figures (customers, in its AppConfig.ready()).
_change_blockers: list[Callable[[], str | None]] = []


def register_change_blocker(check: Callable[[], str | None]) -> None:
    if check not in _change_blockers:
        _change_blockers.append(check)


def change_blocked() -> str | None:
    """Why the base currency or time zone may not change now, or None."""
    for check in _change_blockers:
        reason = check()
        if reason:
            return reason
    return None


def shop_settings_validate(values: dict) -> dict:
    """Clean values for ShopSettings; raise ValidationError naming each bad field."""
    cleaned, errors = {}, {}
    cleaned["name"] = " ".join((values.get("name") or "").split())[:200]
    if not cleaned["name"]:
        errors["name"] = _("The shop needs a name.")
    cleaned["base_currency"] = (values.get("base_currency") or "").strip().upper()
    if cleaned["base_currency"] not in CURRENCIES:
        errors["base_currency"] = _("Use an ISO 4217 currency code such as USD, EUR or TRY.")
    cleaned["time_zone"] = (values.get("time_zone") or "").strip()
    if cleaned["time_zone"] not in available_timezones():
        errors["time_zone"] = _("Use a time zone name such as Europe/Istanbul.")
    cleaned["default_language"] = (values.get("default_language") or "").strip()
    if cleaned["default_language"] not in dict(settings.LANGUAGES):
        errors["default_language"] = _("Choose one of the languages the CRM offers.")
    cleaned["sender_name"] = " ".join((values.get("sender_name") or "").split())[:200]
    cleaned["sender_email"] = (values.get("sender_email") or "").strip()
    try:
        validate_email(cleaned["sender_email"])
    except ValidationError:
        errors["sender_email"] = _("Enter the address the shop's emails come from.")
    if errors:
        raise ValidationError(errors)
    return cleaned


def shop_settings_save(*, values: dict, by=None) -> Shop:
    """Save the shop's settings (the settings page, a command, a test: all through here).

    Fields the environment sets keep their effective value. Changing the base currency or the
    time zone is refused while figures stored with the old one exist (purchases: amount_base,
    purchased_on); before the first purchase it is free.
    """
    from .models import ShopSettings

    current = shop()
    fixed = current.set_by_deployment
    values = {field: getattr(current, field) if field in fixed else values.get(field)
              for field in FIELDS}
    cleaned = shop_settings_validate(values)
    with transaction.atomic():
        changed = [field for field in STORED_IN_FIGURES if cleaned[field] != getattr(current, field)]
        reason = change_blocked() if changed else None
        if reason:
            raise ValidationError({field: _(
                "%(reason)s: changing it now would mix figures stored with the old value. "
                "Keep %(current)s, or start a new installation.") % {
                    "reason": reason, "current": getattr(current, field)}
                for field in changed})
        ShopSettings.objects.update_or_create(pk=1, defaults={**cleaned, "updated_by": by})
        if "time_zone" in changed:
            from .schedule_service import schedules_move_time_zone

            schedules_move_time_zone(old=current.time_zone, new=cleaned["time_zone"])
        transaction.on_commit(shop_cache_clear)
    shop_cache_clear()
    return shop()


# Where a language names no single obvious zone (en: the US has many), the usual choice.
_ZONE_OF_TERRITORY = {"US": "America/New_York", "RU": "Europe/Moscow", "CA": "America/Toronto",
                      "AU": "Australia/Sydney", "BR": "America/Sao_Paulo",
                      "MX": "America/Mexico_City", "ES": "Europe/Madrid", "DE": "Europe/Berlin"}


def suggestions(accept_language: str) -> dict:
    """First-run suggestions from the browser's Accept-Language: its first language that names
    (or implies, by CLDR's likely subtags) a country gives the currency and the time zone;
    the language is the first one the CRM offers. tr gives TRY, Europe/Istanbul, Turkish;
    de gives EUR, Europe/Berlin; en-GB gives GBP, Europe/London."""
    from babel.core import get_global
    from babel.numbers import get_territory_currencies
    from django.utils.translation.trans_real import parse_accept_lang_header

    offered = dict(settings.LANGUAGES)
    tags = [tag.lower() for tag, _q in parse_accept_lang_header(accept_language or "")[:10]
            if tag != "*"]
    language = next((tag.split("-")[0] for tag in tags if tag.split("-")[0] in offered),
                    settings.LANGUAGE_CODE)
    result = {"default_language": language}
    for tag in tags:
        territory = _territory(tag, get_global("likely_subtags"))
        currencies = get_territory_currencies(territory) if territory else []
        zones = get_global("territory_zones").get(territory, []) if territory else []
        if currencies and currencies[0] in CURRENCIES and zones:
            result["base_currency"] = currencies[0]
            result["time_zone"] = _ZONE_OF_TERRITORY.get(territory, zones[0])
            break
    return result


def _territory(tag: str, likely: Mapping[str, str]) -> str:
    parts = tag.replace("-", "_").split("_")
    if len(parts) > 1 and len(parts[-1]) == 2 and parts[-1].isalpha():
        return parts[-1].upper()
    full = likely.get(parts[0], "")
    return full.split("_")[-1] if "_" in full else ""


class ShopTimeZoneMiddleware:
    """Pages count "today" and show times in the shop's time zone (timezone.localdate(),
    localtime() and templates follow the active zone), whatever Django's TIME_ZONE says."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.db import DatabaseError
        from django.utils import timezone

        try:
            timezone.activate(shop().zone)
        except DatabaseError:  # an outage: the page answers 503 itself (crm.errors), in UTC
            pass
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
