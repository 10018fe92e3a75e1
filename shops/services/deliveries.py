"""Webhook deliveries: stored as received (the door answers at once), then processed by the
worker from the stored body.

- `delivery_receive`: one row per (store, delivery id); a delivery sent again is the same row
  (a platform retrying after a timeout). A platform that sends no delivery id gets the
  body's SHA-256 instead, so the same body twice is one delivery.
- `delivery_process`: reads the body with the platform (`read_webhook`) and applies the
  event: orders, refunds and customers through shops.services.orders, the privacy topics
  through the privacy app. The delivery row is locked while it is processed and its status
  written in the same transaction as what it changed, so running it twice (a redelivered
  task, the sweep meeting the queued task) applies it once. A body the platform cannot read
  is FAILED with the reason, nothing else changed. A refund of an order not seen yet stays
  RECEIVED (the sweep tries it again) until MAX_ATTEMPTS.
"""
import hashlib
import logging
from dataclasses import replace

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext

from customers.models import Contact
from customers.normalise import normalise_email
from customers.services.locking import insert_unless_conflict
from privacy.services import contact_erase
from support.models import Case
from support.services import case_open

from .. import webhook_tokens
from ..models import Store, WebhookDelivery
from ..platforms.base import DeliveryMeta, EventKind, WebhookEvent, WebhookRefused
from .orders import (
    OrderNotYet, customer_fetch, customer_ingest, order_ingest, order_refetch, refund_ingest,
)

logger = logging.getLogger(__name__)


class NothingToDo(Exception):
    """The event cannot be applied and trying again will not change that: IGNORED, with the
    reason kept on the delivery."""

MAX_ATTEMPTS = 20  # a refund's order still unknown after this many tries: FAILED
DELIVERY_ID_MAX = WebhookDelivery._meta.get_field("delivery_id").max_length or 128


def delivery_receive(store: Store, meta: DeliveryMeta,
                     body: bytes) -> tuple[WebhookDelivery, bool]:
    """Store a verified delivery; (delivery, created). The same delivery again: (row, False)."""
    delivery_id = (meta.delivery_id or "").strip()[:DELIVERY_ID_MAX]
    if not delivery_id:
        delivery_id = "sha256:" + hashlib.sha256(body).hexdigest()
    delivery = WebhookDelivery(store=store, topic=meta.topic[:64], delivery_id=delivery_id,
                               body=body)
    now = timezone.now()
    with transaction.atomic():
        created = insert_unless_conflict(delivery)
        if not created:
            delivery = WebhookDelivery.objects.get(store=store, delivery_id=delivery_id)
        Store.objects.filter(pk=store.pk).filter(
            Q(last_webhook_at__isnull=True) | Q(last_webhook_at__lt=now)).update(
            last_webhook_at=now)
        if created:
            delivery_queue(delivery.pk)
    return delivery, created


def delivery_queue(delivery_id: int) -> None:
    """Queue the delivery's processing once this transaction commits. A broker that is down
    is not waited for (no publish retries: the platform's timeout is seconds); the sweep
    (shops.sweep_deliveries) processes the delivery within minutes."""
    from ..tasks import delivery_process_task

    def enqueue() -> None:
        try:
            delivery_process_task.apply_async((delivery_id,), retry=False)
        except Exception:
            logger.warning("Could not queue shop delivery %s (broker down?): the sweep "
                           "processes it within minutes", delivery_id, exc_info=True)

    transaction.on_commit(enqueue)


def delivery_process(delivery_id: int) -> str:
    """Process a received delivery; its status afterwards (see the module doc)."""
    with transaction.atomic():
        delivery = (WebhookDelivery.objects.select_for_update().select_related("store")
                    .filter(pk=delivery_id).first())
        if delivery is None or delivery.status != WebhookDelivery.Status.RECEIVED:
            return delivery.status if delivery is not None else ""
        delivery.attempts += 1
        store = delivery.store
        status, error = _process(store, delivery)
        delivery.status, delivery.error = status, error[:2000]
        if status != WebhookDelivery.Status.RECEIVED:
            delivery.processed_at = timezone.now()
        delivery.save(update_fields=["status", "error", "attempts", "processed_at"])
    return status


def _process(store: Store, delivery: WebhookDelivery) -> tuple[str, str]:
    Status = WebhookDelivery.Status  # noqa: N806 - the model's choices, read as such
    if not store.active:
        return Status.IGNORED, gettext("The store is not active.")
    try:
        event = store.platform_impl.read_webhook(delivery.topic, bytes(delivery.body))
    except WebhookRefused as refused:
        logger.warning("Store %s: delivery %s (%s) is unreadable: %s", store.key,
                       delivery.delivery_id, delivery.topic, refused.message)
        return Status.FAILED, refused.message
    try:
        with transaction.atomic():
            note = _apply(store, delivery, event)
    except NothingToDo as reason:
        return Status.IGNORED, str(reason)
    except OrderNotYet as waiting:
        if delivery.attempts >= MAX_ATTEMPTS:
            return Status.FAILED, str(waiting)
        return Status.RECEIVED, str(waiting)
    except Exception as error:  # kept visible on the delivery, retried
        logger.exception("Store %s: delivery %s (%s) failed", store.key,
                         delivery.delivery_id, delivery.topic)
        if delivery.attempts >= MAX_ATTEMPTS:
            return Status.FAILED, f"{type(error).__name__}: {error}"
        return Status.RECEIVED, f"{type(error).__name__}: {error}"
    if note is None:
        return Status.IGNORED, ""
    return Status.PROCESSED, note


def _apply(store: Store, delivery: WebhookDelivery, event: WebhookEvent) -> str | None:
    """Apply the event; None when there was nothing to do, else a note for managers."""
    kind = event.kind
    if kind == EventKind.ORDER and event.order is not None:
        outcome = order_ingest(store, event.order)
        return "" if outcome.applied else gettext("An older version than the one applied: "
                                                  "nothing changed.")
    if kind == EventKind.ORDER and event.order_id:  # only the id: fetched from the platform
        fetched = order_refetch(store, event.order_id, at=event.occurred_at)
        if fetched is None:
            raise NothingToDo(gettext("The delivery names only the order's id and this "
                                      "platform cannot fetch one order."))
        if fetched.shop_order is None:
            raise NothingToDo(gettext("The order is gone from the store and was never "
                                      "recorded here: nothing to do."))
        return "" if fetched.applied else gettext("An older version than the one applied: "
                                                  "nothing changed.")
    if kind == EventKind.REFUND and event.refund is not None:
        refund_ingest(store, event.order_id, event.refund)
        return ""
    if kind == EventKind.CUSTOMER and event.customer is not None:
        customer = event.customer
        if not customer.email.strip() and customer.customer_id:  # only the id and changes
            found = customer_fetch(store, customer.customer_id)
            if found is None or not found.email.strip():
                raise NothingToDo(gettext(
                    "The delivery names the customer only by the store's id (no email) and "
                    "the store could not give the customer's email: nothing changed."))
            # The fetched customer's email, and the delivery's own consent when it has one
            # (a consent update is about that change, the customer read now may lag it).
            customer = replace(found, consent=customer.consent or found.consent)
        customer_ingest(store, customer)
        return ""
    if kind == EventKind.CUSTOMER_REDACT:
        return _customers_erase(store, delivery, event.emails)
    if kind == EventKind.CUSTOMER_DATA_REQUEST:
        return _data_request(store, event)
    if kind == EventKind.SHOP_REDACT:
        store_forget(store)
        return gettext("The store asked to be forgotten: its credentials, webhook secret and "
                       "stored deliveries were deleted and it was deactivated.")
    return None  # PING, IGNORED


def _contacts(emails: tuple[str, ...]) -> list[Contact]:
    addresses = set()
    for email in emails:
        try:
            addresses.add(normalise_email(email))
        except ValidationError:  # not an address: nobody holds it
            continue
    return list(Contact.objects.filter(email__in=addresses).order_by("pk"))


def _customers_erase(store: Store, delivery: WebhookDelivery, emails: tuple[str, ...]) -> str:
    """The platform asks to erase customers: the privacy app's erasure of each contact (its
    personal data everywhere, shops' included), then the stored bodies naming the addresses;
    this delivery's own body goes too."""
    contacts = _contacts(emails)
    for contact in contacts:
        contact_erase(contact, by=None)
    bodies_forget(emails)
    WebhookDelivery.objects.filter(pk=delivery.pk).update(body=b"")
    logger.warning("Store %s asked to erase %s customer(s): %s contact(s) erased", store.key,
                   len(emails), len(contacts))
    return gettext("Erasure asked by the store: %(contacts)s contact(s) erased.") % {
        "contacts": len(contacts)}


def _data_request(store: Store, event: WebhookEvent) -> str:
    """The platform asks what is held about customers: a support case per contact held, for
    a manager to export its data (the contact's privacy page) and send it to the store owner;
    addresses nobody holds are only noted."""
    contacts = _contacts(event.emails)
    for contact in contacts:
        case_open(contact=contact, channel=Case.Channel.WEB,
                  subject=gettext("Data request from the store %(store)s") % {
                      "store": store.name},
                  description=gettext(
                      "The connected store %(store)s asks (%(topic)s) for the personal data "
                      "this CRM holds about this customer. Export it from the contact's "
                      "privacy page and send it to the store owner.")
                  % {"store": store.name, "topic": event.topic})
    logger.warning("Store %s asked for the data of %s customer(s): %s held, a case opened "
                   "for each", store.key, len(event.emails), len(contacts))
    return gettext("Data request: %(held)s of %(asked)s customer(s) held; a support case was "
                   "opened for each.") % {"held": len(contacts), "asked": len(event.emails)}


def bodies_forget(emails: tuple[str, ...] | list[str]) -> int:
    """Blank every stored delivery body that names one of these addresses (any store)."""
    ids = deliveries_naming(emails)
    if not ids:
        return 0
    return WebhookDelivery.objects.filter(pk__in=ids).update(body=b"")


def deliveries_naming(emails: tuple[str, ...] | list[str]) -> list[int]:
    """Ids of the deliveries whose body contains one of these addresses (case-insensitive)."""
    needles = [email.strip().lower().encode() for email in emails if email.strip()]
    if not needles:
        return []
    found = []
    rows = WebhookDelivery.objects.exclude(body=b"").values_list("pk", "body")
    for pk, body in rows.iterator(chunk_size=500):
        text = bytes(body).lower()
        if any(needle in text for needle in needles):
            found.append(pk)
    return found


def store_forget(store: Store) -> None:
    """The store uninstalled the app (or asked to be forgotten): its credentials, secret and
    stored bodies go, and it is deactivated. Its orders stay as purchases."""
    Store.objects.filter(pk=store.pk).update(credentials_encrypted="",
                                             webhook_secret_encrypted="", active=False,
                                             updated_at=timezone.now())
    WebhookDelivery.objects.filter(store=store).exclude(body=b"").update(body=b"")
    store.credentials_encrypted = store.webhook_secret_encrypted = ""
    store.active = False
    webhook_tokens.forget()
