"""Webhook writes: emit events (one delivery row per subscribed endpoint), send a delivery
once, manage endpoints. Delivery is at least once: receivers de-duplicate by X-CRM-Delivery.

    event_emit(EventType.AT_RISK, [(contact_id, {"contact_id": ..., ...}), ...])
    delivery_attempt(delivery_id=...)   # the webhooks.deliver task's work
"""
import datetime as dt
import json
import logging
import random
import time
import uuid
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Contact, Stage

from . import conf
from .models import TEST_EVENT, EventType, WebhookDelivery, WebhookEndpoint, secret_generate
from .selectors import subscribed_endpoint_ids
from .signing import signature_header
from .transport import PostResult, backoff_seconds, post_json

logger = logging.getLogger(__name__)

# Tasks queued directly after one commit; a bigger batch (an import) is left to the sweep.
_ENQUEUE_LIMIT = 500
# A claimed delivery is "in flight" this long: longer than the HTTP timeout, and if the worker
# dies the row is due again afterwards (the sweep re-sends it).
_LEASE_SECONDS = 60

_AMOUNT_PLACES = Decimal("0.001")  # as Purchase.amount stores it, whatever the input looked like

Payloads = list[tuple[int | None, dict]]


# --- Emitting -------------------------------------------------------------------------------

def _payload(event_id: uuid.UUID, event_type: str, created_at: dt.datetime, data: dict) -> dict:
    return {"id": str(event_id), "type": event_type, "created_at": created_at.isoformat(),
            "data": data}


def _enqueue_after_commit(delivery_ids: list[int]) -> None:
    from .tasks import deliver_task

    def enqueue() -> None:
        for delivery_id in delivery_ids[:_ENQUEUE_LIMIT]:
            try:
                deliver_task.delay(delivery_id)
            except Exception:  # the broker is down: the rows stay pending, the sweep sends them
                logger.exception("Could not queue webhook delivery %s", delivery_id)
                return

    transaction.on_commit(enqueue)


def event_emit(event_type: str, payloads_by_contact: Payloads, *,
               endpoint_ids: list[int] | None = None) -> int:
    """One delivery per (event, subscribed active endpoint); queued once the transaction commits.

    Returns the number of delivery rows. Costs one small query when nobody subscribes.
    """
    if not payloads_by_contact:
        return 0
    if endpoint_ids is None:
        endpoint_ids = subscribed_endpoint_ids(event_type)
    if not endpoint_ids:
        return 0
    now = timezone.now()
    rows = []
    for contact_id, data in payloads_by_contact:
        event_id = uuid.uuid4()
        payload = _payload(event_id, event_type, now, data)
        rows += [WebhookDelivery(endpoint_id=endpoint_id, event_type=event_type,
                                 event_id=event_id, contact_id=contact_id, payload=payload,
                                 next_attempt_at=now, created_at=now)
                 for endpoint_id in endpoint_ids]
    created = WebhookDelivery.objects.bulk_create(rows, batch_size=1000)
    _enqueue_after_commit([delivery.pk for delivery in created])
    return len(created)


def _contact_data(pk: int, email: str, stage: str) -> dict:
    return {"contact_id": pk, "email": email, "stage": stage}


class StageWatcher:
    """Notes stages before customers.stats updates a chunk of contacts and emits the changes.

    Does nothing (not even a read) unless an active endpoint subscribes to stage changes, so
    imports without webhooks stay as fast as before.
    """

    def __init__(self) -> None:
        self.endpoint_ids = subscribed_endpoint_ids(EventType.STAGE_CHANGED)
        self._before: dict[int, str] = {}

    def before(self, contact_ids: list[int]) -> None:
        if self.endpoint_ids:
            self._before = dict(Contact.objects.filter(pk__in=contact_ids)
                                .values_list("pk", "stage"))

    def after(self, contact_ids: list[int]) -> None:
        if not self.endpoint_ids:
            return
        rows = Contact.objects.filter(pk__in=contact_ids).values_list("pk", "email", "stage")
        payloads = [
            (pk, {**_contact_data(pk, email, stage), "old_stage": self._before[pk],
                  "new_stage": stage})
            for pk, email, stage in rows if pk in self._before and self._before[pk] != stage
        ]
        event_emit(EventType.STAGE_CHANGED, payloads, endpoint_ids=self.endpoint_ids)
        self._before = {}


    def created(self, contact_ids: list[int]) -> None:
        """Contacts inserted with their figures already counted (the PostgreSQL purchase
        import): announced as leaving "prospect", as a contact created, then refreshed, is."""
        if self.endpoint_ids:
            self._before = dict.fromkeys(contact_ids, Stage.PROSPECT.value)
            self.after(contact_ids)

    @property
    def watching(self) -> bool:
        return bool(self.endpoint_ids)


def stage_changes_watch() -> StageWatcher:
    return StageWatcher()


def contacts_at_risk_emit(contact_ids: Iterable[int]) -> int:
    """contact.at_risk for contacts campaigns' daily check found newly at risk.

    A contact is announced once per silence: not again while an at-risk delivery made after
    their last purchase exists, so running the daily check twice sends nothing twice.
    """
    contact_ids = list(contact_ids)
    endpoint_ids = subscribed_endpoint_ids(EventType.AT_RISK) if contact_ids else []
    if not endpoint_ids:
        return 0
    announced = dict(WebhookDelivery.objects.filter(
        event_type=EventType.AT_RISK, contact_id__in=contact_ids)
        .values("contact_id").annotate(last=Max("created_at")).values_list("contact_id", "last"))
    rows = Contact.objects.filter(pk__in=contact_ids).order_by("pk").values_list(
        "pk", "email", "stage", "last_purchase_at")
    payloads = [
        (pk, {**_contact_data(pk, email, stage), "last_purchase_at": last.isoformat()})
        for pk, email, stage, last in rows
        if last is not None and not (pk in announced and announced[pk] > last)
    ]
    return event_emit(EventType.AT_RISK, payloads, endpoint_ids=endpoint_ids)


def coupon_redeemed_emit(*, coupon, purchase) -> int:
    """coupon.redeemed: called by campaigns.coupons.coupon_redeem inside the purchase's
    transaction. No stage here: the purchase is not counted yet; a stage it changes arrives
    as its own contact.stage_changed event."""
    endpoint_ids = subscribed_endpoint_ids(EventType.COUPON_REDEEMED)
    if not endpoint_ids:
        return 0
    email = Contact.objects.filter(pk=purchase.contact_id).values_list("email", flat=True).get()
    data = {"contact_id": purchase.contact_id, "email": email, "coupon_code": coupon.code,
            "purchase_external_id": purchase.external_id, "amount": str(Decimal(purchase.amount).quantize(_AMOUNT_PLACES)),
            "currency": purchase.currency}
    return event_emit(EventType.COUPON_REDEEMED, [(purchase.contact_id, data)],
                      endpoint_ids=endpoint_ids)


def contact_deliveries_delete(contact_id: int) -> int:
    """Erasure: the payloads hold the person's email, so their deliveries go (sent or not)."""
    return WebhookDelivery.objects.filter(contact_id=contact_id).delete()[0]


# --- Sending --------------------------------------------------------------------------------

def _claim(delivery_id: int, now: dt.datetime) -> bool:
    """Take a due pending delivery for one attempt; False if it is not ours to send.

    The conditional UPDATE is the lock: a duplicate task, or one running while another is in
    flight (next_attempt_at pushed ahead by the lease), updates nothing and sends nothing.
    """
    return bool(WebhookDelivery.objects.filter(
        pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now,
        endpoint__is_active=True,
    ).update(next_attempt_at=now + dt.timedelta(seconds=_LEASE_SECONDS)))


def delivery_body(delivery: WebhookDelivery) -> bytes:
    return json.dumps(delivery.payload, separators=(",", ":"), ensure_ascii=False).encode()


def _headers(delivery: WebhookDelivery, body: bytes) -> dict[str, str]:
    return {
        "X-CRM-Signature": signature_header(delivery.endpoint.secret, body, int(time.time())),
        "X-CRM-Event": delivery.event_type,
        "X-CRM-Delivery": str(delivery.event_id),
    }


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after `attempts` failed ones (WEBHOOKS_BACKOFF_* settings)."""
    return backoff_seconds(attempts, base=conf.backoff_base_seconds(),
                           cap=conf.backoff_cap_seconds(), rand=random.random())


def _record(delivery: WebhookDelivery, result: PostResult) -> float | None:
    now = timezone.now()
    attempts = delivery.attempts + 1
    changes: dict[str, object] = {"attempts": attempts, "last_status_code": result.status_code,
               "last_error": result.error}
    retry_in = None
    if result.ok:
        changes.update(status=WebhookDelivery.Status.DELIVERED, delivered_at=now)
    elif attempts >= conf.max_attempts():
        changes.update(status=WebhookDelivery.Status.FAILED, next_attempt_at=now)
    else:
        retry_in = retry_delay(attempts)
        changes["next_attempt_at"] = now + dt.timedelta(seconds=retry_in)
    WebhookDelivery.objects.filter(pk=delivery.pk, status=WebhookDelivery.Status.PENDING).update(
        **changes)
    return retry_in


def delivery_attempt(*, delivery_id: int) -> float | None:
    """Send one due delivery once. Returns the seconds until its retry, if one is scheduled.

    Never raises for the receiver's problems: they are recorded on the row (no secret, no
    payload in the logs).
    """
    if not _claim(delivery_id, timezone.now()):
        return None
    delivery = WebhookDelivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:  # erased or its endpoint deleted in the meantime
        return None
    body = delivery_body(delivery)
    # The address is checked again here, not only when the endpoint was saved: DNS can change
    # since. The transport resolves once, checks every address and connects to a checked one.
    result = post_json(delivery.endpoint.url, body, _headers(delivery, body),
                       timeout=conf.timeout_seconds(),
                       allow_private=conf.allow_private_addresses())
    if not result.ok:
        logger.warning("Webhook delivery %s to endpoint %s failed (attempt %s): %s",
                       delivery.pk, delivery.endpoint_id, delivery.attempts + 1, result.error)
    return _record(delivery, result)


# --- Managers' actions ----------------------------------------------------------------------

def endpoint_create(*, name: str, url: str, events: list[str], is_active: bool = True
                    ) -> WebhookEndpoint:
    """A new endpoint with a fresh secret; invalid input raises ValidationError, stores nothing."""
    endpoint = WebhookEndpoint(name=name, url=url, events=list(events), is_active=is_active)
    endpoint.full_clean()
    endpoint.save()
    return endpoint


def endpoint_send_test(endpoint: WebhookEndpoint) -> WebhookDelivery:
    """A webhook.test event to this endpoint (subscribed or not), to check the receiver."""
    if not endpoint.is_active:
        raise ValidationError(_("The endpoint is inactive: activate it first."), code="inactive")
    now = timezone.now()
    event_id = uuid.uuid4()
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type=TEST_EVENT, event_id=event_id, contact_id=None,
        payload=_payload(event_id, TEST_EVENT, now, {"endpoint": endpoint.name}),
        next_attempt_at=now, created_at=now)
    _enqueue_after_commit([delivery.pk])
    return delivery


def endpoint_rotate_secret(endpoint: WebhookEndpoint) -> WebhookEndpoint:
    """A new secret; the receiver must be given it, or it rejects every request from now."""
    endpoint.secret = secret_generate()
    endpoint.save(update_fields=["secret"])
    return endpoint


def deliveries_retry_now(delivery_ids: Iterable[int]) -> int:
    """Pending or failed deliveries are tried once more now; delivered ones are never re-sent.

    A failed delivery that fails again is failed again after this one attempt.
    """
    ids = list(WebhookDelivery.objects.filter(pk__in=list(delivery_ids)).exclude(
        status=WebhookDelivery.Status.DELIVERED).values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).exclude(
        status=WebhookDelivery.Status.DELIVERED).update(
        status=WebhookDelivery.Status.PENDING, next_attempt_at=timezone.now())
    _enqueue_after_commit(ids)
    return len(ids)


def coupons_redeemed_emit(coupons) -> int:
    """coupon.redeemed for coupons redeemed in bulk (an import), inside its transaction: the
    same payload as coupon_redeemed_emit, read in one query."""
    endpoint_ids = subscribed_endpoint_ids(EventType.COUPON_REDEEMED)
    if not endpoint_ids:
        return 0
    rows = coupons.order_by("pk").values_list(
        "code", "redeemed_purchase__contact_id", "redeemed_purchase__contact__email",
        "redeemed_purchase__external_id", "redeemed_purchase__amount",
        "redeemed_purchase__currency")
    payloads = [(contact_id, {"contact_id": contact_id, "email": email, "coupon_code": code,
                              "purchase_external_id": external_id,
                              "amount": str(Decimal(amount).quantize(_AMOUNT_PLACES)),
                              "currency": currency})
                for code, contact_id, email, external_id, amount, currency in rows]
    return event_emit(EventType.COUPON_REDEEMED, payloads, endpoint_ids=endpoint_ids)
