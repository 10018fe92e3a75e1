"""Reads: which endpoints want an event, which deliveries are due."""
import datetime as dt
import time

from .models import WebhookDelivery, WebhookEndpoint


# Every recorded purchase asks, and usually nobody subscribes. That "nobody" is remembered in
# the process for a few seconds (dropped at once by this process's own endpoint edits: the
# signals in webhooks.apps); any "somebody" is always read fresh, so a deleted or switched-off
# endpoint never gets a delivery. A new endpoint may miss ENDPOINTS_TTL_SECONDS of events
# recorded by other processes.
ENDPOINTS_TTL_SECONDS = 5.0
_nobody_since: float | None = None


def subscribed_endpoint_ids(event_type: str) -> list[int]:
    """Active endpoints subscribed to this event (a table of a handful of rows).

    Filtered in Python because SQLite cannot ask "does this JSON list contain X".
    """
    global _nobody_since
    now = time.monotonic()
    if _nobody_since is not None and now - _nobody_since <= ENDPOINTS_TTL_SECONDS:
        return []
    rows = list(WebhookEndpoint.objects.filter(is_active=True).values_list("pk", "events"))
    _nobody_since = None if rows else now
    return [pk for pk, events in rows if event_type in (events or [])]


def forget_endpoints(**kwargs) -> None:
    """Signal receiver: an endpoint changed in this process."""
    global _nobody_since
    _nobody_since = None


def deliveries_due_ids(*, before: dt.datetime, limit: int) -> list[int]:
    """Pending deliveries of active endpoints whose next attempt was due before `before`."""
    return list(
        WebhookDelivery.objects.filter(status=WebhookDelivery.Status.PENDING,
                                       next_attempt_at__lte=before, endpoint__is_active=True)
        .order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    )
