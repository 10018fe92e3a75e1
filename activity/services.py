"""Every write of website events goes through here: the API, tests, any import or command.

    event_record(email="ann@example.com", kind="abandoned_cart", occurred_at=..., source="shop",
                 external_id="cart-81")                 # EventResult(event, created)
    events_record(events=[{...}, {...}])                # all or nothing

A known (source, external_id) is not recorded again, as with purchases. A new event that is
recent starts the "After a website action" campaigns once the transaction commits.
"""
import datetime as dt
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import cast

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Contact
from customers.normalise import normalise_email
from customers.scoring.freshness import scores_refresh_after_commit
from customers.services.contacts import contact_get_or_create

from . import hooks
from .models import EventKind, WebsiteEvent

# Bounds on what an integration may store per event: properties are for display and
# filtering, not a data dump.
MAX_AGE = dt.timedelta(days=730)
MAX_PROPERTIES = 20
MAX_KEY_LENGTH = 64
MAX_TEXT_LENGTH = 500
MAX_LIST_ITEMS = 50
MAX_PROPERTIES_BYTES = 4096
MAX_BATCH = 500
# Older events are recorded (backfills, late deliveries) but start no campaign: nobody wants an
# "you left something in your cart" email about last month.
TRIGGER_MAX_AGE = dt.timedelta(hours=48)


@dataclass(frozen=True)
class EventResult:
    event: WebsiteEvent
    created: bool


# --- Validation -----------------------------------------------------------------------------

def _is_scalar(value: object) -> bool:
    if isinstance(value, str):
        return len(value) <= MAX_TEXT_LENGTH
    if isinstance(value, float):
        return math.isfinite(value)
    return value is None or isinstance(value, (bool, int))


def _properties_problem(properties: object) -> str | None:
    """Why these properties cannot be stored, or None when they are fine."""
    if not isinstance(properties, dict):
        return _("Properties must be a JSON object.")
    if len(properties) > MAX_PROPERTIES:
        return _("At most %(max)d properties.") % {"max": MAX_PROPERTIES}
    for key, value in properties.items():
        if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
            return _("Property names must be 1 to %(max)d characters.") % {"max": MAX_KEY_LENGTH}
        values = value if isinstance(value, list) else [value]
        if len(values) > MAX_LIST_ITEMS or not all(_is_scalar(item) for item in values):
            return _("Property %(key)s: give text (up to %(text)d characters), a number, true, "
                     "false, null, or a list of up to %(items)d of these.") % {
                "key": key[:MAX_KEY_LENGTH], "text": MAX_TEXT_LENGTH, "items": MAX_LIST_ITEMS}
    size = len(json.dumps(properties, ensure_ascii=False).encode())
    if size > MAX_PROPERTIES_BYTES:
        return _("Properties take %(size)d bytes as JSON; at most %(max)d are allowed.") % {
            "size": size, "max": MAX_PROPERTIES_BYTES}
    return None


def _time_problem(occurred_at: object, now: dt.datetime) -> str | None:
    if not isinstance(occurred_at, dt.datetime) or timezone.is_naive(occurred_at):
        return _("Give the time of the event with its time zone.")
    if occurred_at > now + dt.timedelta(hours=settings.CRM_FUTURE_TOLERANCE_HOURS):
        return _("The event is in the future.")
    if occurred_at < now - MAX_AGE:
        return _("The event is more than two years old.")
    return None


def event_clean(*, kind: str, occurred_at: dt.datetime, name: str = "",
                properties: dict | None = None, source: str = "api",
                now: dt.datetime | None = None) -> dict:
    """Validate one event; return the stored values. Every problem is reported per field."""
    now = now or timezone.now()
    properties = {} if properties is None else properties
    name, source = (name or "").strip(), (source or "").strip()
    problems = {
        "kind": None if kind in EventKind.values else _("Unknown kind of event."),
        "name": (_("A custom action needs a name.") if kind == EventKind.CUSTOM and not name
                 else _("At most 200 characters.") if len(name) > 200 else None),
        "properties": _properties_problem(properties),
        "occurred_at": _time_problem(occurred_at, now),
        "source": None if 0 < len(source) <= 32 else _("Give a source of 1 to 32 characters."),
    }
    errors = {field: ValidationError(text, code="invalid")
              for field, text in problems.items() if text}
    if errors:
        raise ValidationError(errors)
    return {"kind": kind, "name": name, "properties": properties, "occurred_at": occurred_at,
            "source": source}


# --- Recording ------------------------------------------------------------------------------

def _known(source: str, external_id: str | None) -> WebsiteEvent | None:
    if not external_id:
        return None
    return WebsiteEvent.objects.filter(source=source, external_id=external_id).first()


def _contact_for(contact: Contact | None, email: str | None) -> Contact:
    """The given contact, or the one with this email; a new email makes a prospect without
    marketing consent (a website visit is no permission to email)."""
    if contact is not None:
        return contact
    if not email:
        raise ValidationError({"contact": ValidationError(
            _("Give the contact's id or email."), code="required")})
    return contact_get_or_create(email=email)


def _event_write(*, contact: Contact | None, email: str | None, external_id: str | None,
                 now: dt.datetime, **values) -> EventResult:
    """Clean and store one event inside the caller's transaction; no campaign yet."""
    values = event_clean(**values, now=now)
    external_id = (external_id or "").strip() or None
    existing = _known(values["source"], external_id)
    if existing:
        return EventResult(existing, created=False)
    contact = _contact_for(contact, email)
    try:
        with transaction.atomic():
            event = WebsiteEvent.objects.create(contact=contact, external_id=external_id,
                                                received_at=now, **values)
    except IntegrityError:
        # A concurrent request recorded the same (source, external_id) in the meantime.
        existing = _known(values["source"], external_id)
        if existing is None:
            raise
        return EventResult(existing, created=False)
    return EventResult(event, created=True)


def _start_campaigns(results: Sequence[EventResult], now: dt.datetime) -> None:
    """Once per (contact, kind) among the new, recent events (campaigns registers with
    activity.hooks.website_event_recorded)."""
    fresh = {(result.event.contact_id, result.event.kind) for result in results
             if result.created and result.event.occurred_at >= now - TRIGGER_MAX_AGE}
    for contact_id, kind in sorted(fresh):
        hooks.website_event_recorded.call(contact_id, kind)


def event_record(
    *, kind: str, occurred_at: dt.datetime, contact: Contact | None = None,
    email: str | None = None, name: str = "", properties: dict | None = None,
    source: str = "api", external_id: str | None = None, now: dt.datetime | None = None,
) -> EventResult:
    """Record one event once; a known (source, external_id) returns the existing one."""
    now = now or timezone.now()
    with transaction.atomic():
        result = _event_write(contact=contact, email=email, kind=kind, occurred_at=occurred_at,
                              name=name, properties=properties, source=source,
                              external_id=external_id, now=now)
        _start_campaigns([result], now)
    return result


def events_record(*, events: Sequence[dict], now: dt.datetime | None = None
                  ) -> list[EventResult]:
    """Record a batch (each item takes event_record's arguments) all or nothing.

    Every item is validated before anything is written; a ValidationError names each problem
    as "<index>.<field>" (such as "3.occurred_at").
    """
    now = now or timezone.now()
    if len(events) > MAX_BATCH:
        raise ValidationError(_("At most %(max)d events at a time.") % {"max": MAX_BATCH},
                              code="too_many")
    errors = {}
    for index, item in enumerate(events):
        fields = {key: item[key] for key in ("kind", "occurred_at", "name", "properties",
                                             "source") if key in item}
        try:
            event_clean(**fields, now=now)
        except ValidationError as error:
            errors.update({f"{index}.{field}": problems
                           for field, problems in error.error_dict.items()})
    if errors:
        raise ValidationError(errors)
    items = [{"contact": None, "email": None, "external_id": None, **item} for item in events]
    with transaction.atomic():
        _contacts_resolve(items)
        # Rows are written in one order whatever the batch's order: two batches sharing events
        # (a shop re-sending, reordered) then wait for each other instead of deadlocking.
        results: list[EventResult | None] = [None] * len(items)
        for index in sorted(range(len(items)), key=lambda i: _write_order(items[i])):
            results[index] = _event_write(**items[index], now=now)
        written = cast(list[EventResult], results)  # every index was filled above
        _start_campaigns(written, now)
        # Website events are scoring attributes: the batch's buyers get fresh scores within
        # minutes (one task per 1,000 contacts), not at the next nightly run. Single events
        # (a tracking pixel's stream) wait for the nightly run.
        scores_refresh_after_commit({result.event.contact_id for result in written
                                     if result.created})
    return written


def _write_order(item: dict) -> tuple[str, str]:
    return (item.get("source") or "api").strip(), (item["external_id"] or "").strip()


def _contacts_resolve(items: list[dict]) -> None:
    """Find or create the contacts the batch names by email, in email order (the same
    deadlock reason), skipping events already recorded: a retry creates no contact."""
    emails = sorted({normalise_email(item["email"]) for item in items
                     if item["contact"] is None and item["email"]
                     and not _known(*_write_order(item))})
    contacts = {email: contact_get_or_create(email=email) for email in emails}
    for item in items:
        if item["contact"] is None and item["email"]:
            item["contact"] = contacts.get(normalise_email(item["email"]))
