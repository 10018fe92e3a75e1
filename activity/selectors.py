"""Reads of website events for screens and the API."""
from django.db.models import QuerySet

from customers.models import Contact
from customers.normalise import shop_timezone

from .models import WebsiteEvent

TIMELINE_LENGTH = 50


def contact_events(*, contact: Contact, limit: int = TIMELINE_LENGTH) -> list[WebsiteEvent]:
    """The contact's latest website events, newest first (one query on the contact index)."""
    return list(WebsiteEvent.objects.filter(contact=contact)
                .order_by("-occurred_at", "-id")[:limit])


def contact_events_section(*, contact: Contact) -> dict:
    """The contact page's "Website activity" section (templates/activity/_contact_events.html):
    times are shown in the shop's time zone, whatever zone the event was sent in."""
    return {"website_events": contact_events(contact=contact),
            "website_events_limit": TIMELINE_LENGTH, "shop_time_zone": shop_timezone()}


def events_for_api(*, contact_id: int | None = None, kind: str = "") -> QuerySet[WebsiteEvent]:
    events = WebsiteEvent.objects.all()
    if contact_id:
        events = events.filter(contact_id=contact_id)
    if kind:
        events = events.filter(kind=kind)
    return events
