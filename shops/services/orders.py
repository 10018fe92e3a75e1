"""A store's orders, refunds and customers in: the same rules for every platform.

- An order is a purchase once: source "shop:<key>", external id the platform's order id
  (unique together), recorded through the purchase service with its lines (products kept in
  the store's catalogue), code and channel label. ShopOrder keeps the rest: the platform's
  last update time, its state, which purchase line each platform line became, the refunds
  applied.
- A version older than the one applied (`platform_updated_at`) changes nothing: an
  `updated` delivered before `created`, a late retry, a poll page read before a webhook.
- PENDING: no purchase yet (recorded once a later version is paid). PAID: a purchase, its
  refunds applied once each (ShopOrder.refund_ids). CANCELLED: no purchase; one recorded
  already is refunded in full.
- A refund is capped at what is left of the purchase: an amount above it (shipping refunded
  too) refunds what is left. Its lines are mapped through ShopOrder.line_map, each quantity
  capped at what is left of the line.
- An order without an email is kept unrecorded, with the reason on its ShopOrder.
- Consent the shop states (CustomerData.consent) goes to the ledger (ConsentMethod.SHOP,
  the platform's words as evidence) unless the contact decided later than the shop says: a
  consent the shop states without a time is applied only to a contact who never decided
  (a withdrawal always is).

The bulk path (`orders_ingest`: backfill and poll pages) imports the page's new paid orders
in one set-based batch (customers.imports.purchases.purchases_import_rows, lines included),
then creates their ShopOrder rows in bulk; known orders, refunds and cancellations go one by
one through `order_ingest`.
"""
import datetime as dt
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from customers.consent.models import ConsentMethod
from customers.consent.services import consent_record
from customers.imports.purchases import purchases_import_rows
from customers.models import Contact, Purchase, PurchaseLine
from customers.normalise import normalise_email
from customers.services.contacts import contact_get_or_create, contact_update
from customers.services.purchases import purchase_known, purchase_record_by_email
from customers.services.refunds import purchase_refund

from ..http import ShopHTTP
from ..models import ShopOrder, Store
from ..platforms.base import (
    ConnectorError, CustomerData, OrderData, OrderState, Platform, RefundData,
)

logger = logging.getLogger(__name__)

NO_EMAIL = "The order has no email address: it cannot be given to a contact."
_CHUNK = 900  # ids per IN (...): within SQLite's variable limit


class OrderNotYet(Exception):
    """A refund names an order the connector has not seen (and cannot fetch): the delivery
    waits and is tried again."""


class NotFetched(OrderNotYet):
    """An event names only an id and fetching the order or customer failed (ConnectorError):
    the delivery waits and is tried again."""


@dataclass(frozen=True)
class OrderOutcome:
    shop_order: ShopOrder | None
    purchase_created: bool = False
    applied: bool = True  # False: a stale version, nothing changed


@dataclass(frozen=True)
class PageOutcome:
    orders_seen: int
    purchases_created: int


# --- One order ---------------------------------------------------------------------------------

def order_ingest(store: Store, order: OrderData, *, historical: bool = False) -> OrderOutcome:
    """Apply one version of an order (module doc). Safe to repeat: the same version twice
    changes nothing the second time."""
    with transaction.atomic():
        shop_order = _shop_order_locked(store, order)
        if shop_order is None:  # an older version than the one applied
            return OrderOutcome(None, applied=False)
        created = False
        purchase = _purchase_of(shop_order)
        if order.state == OrderState.PAID and purchase is None:
            purchase, created, reason = _record(store, order, historical=historical)
            shop_order.unrecorded_reason = reason
            if purchase is not None:
                shop_order.purchase = purchase
                shop_order.line_map = _line_map(order, purchase.pk)
        if purchase is not None:
            if order.state == OrderState.CANCELLED:
                _refund_in_full(purchase, order.updated_at)
            else:
                for refund in order.refunds:
                    _refund_apply(shop_order, purchase, refund)
        shop_order.state = order.state.value
        shop_order.number = order.number[:64]
        shop_order.platform_updated_at = order.updated_at
        shop_order.seen_at = timezone.now()
        shop_order.save()
        _customer_from_order(store, order, shop_order)
        _last_order_seen(store, [order.created_at])
    return OrderOutcome(shop_order, purchase_created=created)


def refund_ingest(store: Store, order_id: str, refund: RefundData) -> OrderOutcome:
    """One refund of an order, applied once. An order not seen yet is fetched first when the
    platform can (Platform.order); else OrderNotYet: the delivery waits and is tried again."""
    shop_order = ShopOrder.objects.filter(store=store, order_id=order_id).first()
    if shop_order is None:
        order = _fetch_order(store, order_id)
        if order is None:
            raise OrderNotYet(f"order {order_id} of {store.key} not seen yet")
        order_ingest(store, order)
    with transaction.atomic():
        shop_order = (ShopOrder.objects.select_for_update()
                      .filter(store=store, order_id=order_id).first())
        if shop_order is None:  # pragma: no cover - ingested just above
            raise OrderNotYet(f"order {order_id} of {store.key} not seen yet")
        purchase = _purchase_of(shop_order)
        if purchase is not None and _refund_apply(shop_order, purchase, refund):
            shop_order.save(update_fields=["refund_ids"])
    return OrderOutcome(shop_order)


def customer_ingest(store: Store, customer: CustomerData) -> Contact | None:
    """A shop's customer: the contact by email (created when new), blank names and phone
    filled (a known value is never overwritten), consent to the ledger. None: no email."""
    email = (customer.email or "").strip()
    if not email:
        return None
    try:
        email = normalise_email(email)
    except ValidationError:
        logger.warning("Store %s: customer %s has an unusable email; skipped", store.key,
                       customer.customer_id)
        return None
    with transaction.atomic():
        contact = contact_get_or_create(email=email, first_name=customer.first_name,
                                        last_name=customer.last_name,
                                        language=customer.language)
        _fill_blanks(contact, customer)
        _consent(store, contact, customer)
    return contact


def order_refetch(store: Store, order_id: str, *,
                  at: dt.datetime | None = None) -> OrderOutcome | None:
    """An event naming only an order's id (IdeaSoft's order/update carries only what changed,
    WooCommerce's order.deleted only the id): the order fetched from the platform
    (Platform.order) and ingested. The platform answering it is gone for good (None): cancelled,
    its purchase refunded in full (`order_gone`). None: the platform cannot fetch one order.
    A failed fetch raises NotFetched (the delivery is tried again)."""
    platform = store.platform_impl
    if type(platform).order is Platform.order:
        return None
    try:
        with ShopHTTP() as http:
            order = platform.order(store.access(), http, order_id)
    except ConnectorError as error:
        raise NotFetched(f"order {order_id} of {store.key} not fetched: "
                         f"{error.message}") from None
    if order is None:
        return order_gone(store, order_id, at=at or timezone.now())
    return order_ingest(store, order)


def order_gone(store: Store, order_id: str, *, at: dt.datetime) -> OrderOutcome:
    """The platform no longer has the order (deleted for good): CANCELLED, a purchase
    recorded for it refunded in full. An order never seen: nothing (shop_order None)."""
    with transaction.atomic():
        shop_order = (ShopOrder.objects.select_for_update()
                      .filter(store=store, order_id=order_id).first())
        if shop_order is None:
            return OrderOutcome(None, applied=False)
        purchase = _purchase_of(shop_order)
        if purchase is not None:
            _refund_in_full(purchase, at)
        shop_order.state = OrderState.CANCELLED.value
        shop_order.seen_at = timezone.now()
        shop_order.save(update_fields=["state", "seen_at"])
    return OrderOutcome(shop_order)


def customer_fetch(store: Store, customer_id: str) -> CustomerData | None:
    """The customer by the platform's id (Platform.customer), for an event naming only the id
    and what changed. None: the platform cannot fetch customers, or does not know this one.
    A failed fetch raises NotFetched (the delivery is tried again)."""
    platform = store.platform_impl
    if type(platform).customer is Platform.customer:
        return None
    try:
        with ShopHTTP() as http:
            return platform.customer(store.access(), http, customer_id)
    except ConnectorError as error:
        raise NotFetched(f"customer {customer_id} of {store.key} not fetched: "
                         f"{error.message}") from None


# --- Many orders (a page) ------------------------------------------------------------------------

def orders_ingest(store: Store, orders: Sequence[OrderData], *,
                  historical: bool) -> PageOutcome:
    """A page of orders: new paid ones imported set-based, the rest one by one."""
    latest: dict[str, OrderData] = {}
    for order in orders:  # a page naming an order twice: its latest version
        seen = latest.get(order.order_id)
        if seen is None or order.updated_at >= seen.updated_at:
            latest[order.order_id] = order
    known = _known_orders(store, list(latest))
    new = [order for key, order in latest.items() if key not in known]
    created = 0
    with transaction.atomic():
        created += _orders_insert(store, new, historical=historical)
        _last_order_seen(store, [order.created_at for order in new])
    for order in new:  # what the bulk insert left to the one-by-one rules
        if order.refunds or order.customer.consent is not None:
            order_ingest(store, order, historical=historical)
    for key, order in latest.items():
        if key in known and order.updated_at >= known[key]:
            created += order_ingest(store, order, historical=historical).purchase_created
    return PageOutcome(orders_seen=len(orders), purchases_created=created)


def _known_orders(store: Store, order_ids: list[str]) -> dict[str, dt.datetime]:
    known: dict[str, dt.datetime] = {}
    for start in range(0, len(order_ids), _CHUNK):
        known.update(ShopOrder.objects.filter(
            store=store, order_id__in=order_ids[start:start + _CHUNK])
            .values_list("order_id", "platform_updated_at"))
    return known


def _orders_insert(store: Store, orders: list[OrderData], *, historical: bool) -> int:
    """New orders: the paid ones with an email imported as purchases in one batch, then a
    ShopOrder for each. Returns the purchases created."""
    if not orders:
        return 0
    paid = [order for order in orders if order.state == OrderState.PAID
            and order.customer.email.strip() and order.lines]
    reasons: dict[str, str] = {}
    created = 0
    if paid:
        rows, line_of = _import_rows(paid)
        result = purchases_import_rows(rows=rows, source=store.source, skip_invalid=True,
                                       historical=historical, store=store.key)
        created = result.purchases_created
        for line, _email, why in result.errors:
            reasons.setdefault(line_of[line], " ".join(why)[:500])
    purchases = _purchases_by_order(store, [order.order_id for order in paid
                                            if order.order_id not in reasons])
    lines = _lines_by_purchase(list(purchases.values()))
    now = timezone.now()
    rows_out = []
    for order in orders:
        purchase_id = purchases.get(order.order_id)
        reason = reasons.get(order.order_id, "")
        if order.state == OrderState.PAID and purchase_id is None and not reason:
            reason = _unrecorded_reason(order)
        rows_out.append(ShopOrder(
            store=store, order_id=order.order_id, number=order.number[:64],
            state=order.state.value, platform_updated_at=order.updated_at,
            purchase_id=purchase_id, unrecorded_reason=reason, seen_at=now,
            line_map=_zip_lines(order, lines.get(purchase_id, [])) if purchase_id else {}))
    # A webhook of the same order may have won the race: its row stands (same purchase).
    ShopOrder.objects.bulk_create(rows_out, batch_size=1000, ignore_conflicts=True)
    return created


def _import_rows(orders: list[OrderData]) -> tuple[list[dict[str, str]], dict[int, str]]:
    """The purchase import's rows (one per line) and which order each row number is."""
    rows: list[dict[str, str]] = []
    line_of: dict[int, str] = {}
    for order in orders:
        customer = order.customer
        head = {"email": customer.email, "purchased_at": order.created_at.isoformat(),
                "currency": order.currency, "external_id": order.order_id,
                "first_name": customer.first_name, "last_name": customer.last_name,
                "channel": order.channel_label, "code": order.code}
        for line in order.lines:
            line_of[len(rows) + 1] = order.order_id
            rows.append({**head, "sku": line.sku, "product": line.name,
                         "category": line.category, "quantity": format(line.quantity, "f"),
                         "unit_price": format(line.unit_price, "f"),
                         "discount": format(line.discount, "f")})
    return rows, line_of


def _purchases_by_order(store: Store, order_ids: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for start in range(0, len(order_ids), _CHUNK):
        found.update(Purchase.objects.filter(
            source=store.source, external_id__in=order_ids[start:start + _CHUNK])
            .values_list("external_id", "pk"))
    return found


def _lines_by_purchase(purchase_ids: list[int]) -> dict[int, list[int]]:
    """Each purchase's line ids in the order they were stored (the order's line order)."""
    lines: dict[int, list[int]] = {}
    for start in range(0, len(purchase_ids), _CHUNK):
        for purchase_id, line_id in (PurchaseLine.objects.filter(
                purchase_id__in=purchase_ids[start:start + _CHUNK])
                .order_by("purchase_id", "pk").values_list("purchase_id", "pk")):
            lines.setdefault(purchase_id, []).append(line_id)
    return lines


def _zip_lines(order: OrderData, line_ids: list[int]) -> dict[str, int]:
    if len(line_ids) != len(order.lines):
        return {}  # recorded elsewhere with other lines: refunds go by amount
    return {line.line_id: line_id for line, line_id in zip(order.lines, line_ids, strict=True)}


def _line_map(order: OrderData, purchase_id: int) -> dict[str, int]:
    return _zip_lines(order, list(PurchaseLine.objects.filter(purchase_id=purchase_id)
                                  .order_by("pk").values_list("pk", flat=True)))


# --- The rules -----------------------------------------------------------------------------------

def _shop_order_locked(store: Store, order: OrderData) -> ShopOrder | None:
    """The order's row, locked (created when new); None when `order` is older than what was
    applied."""
    rows = ShopOrder.objects.select_for_update().filter(store=store, order_id=order.order_id)
    shop_order = rows.first()
    if shop_order is None:
        try:
            with transaction.atomic():
                shop_order = ShopOrder.objects.create(
                    store=store, order_id=order.order_id, number=order.number[:64],
                    state=order.state.value, platform_updated_at=order.updated_at)
        except IntegrityError:  # a concurrent delivery of the same order created it
            shop_order = rows.get()
        else:
            return shop_order
    if order.updated_at < shop_order.platform_updated_at:
        return None
    return shop_order


def _purchase_of(shop_order: ShopOrder) -> Purchase | None:
    if shop_order.purchase_id is None:
        return None
    return Purchase.objects.filter(pk=shop_order.purchase_id).first()


def _unrecorded_reason(order: OrderData) -> str:
    if not order.customer.email.strip():
        return NO_EMAIL
    if not order.lines:
        return "The order has no product lines (only shipping, fees or gift cards)."
    return ""


def _record(store: Store, order: OrderData, *,
            historical: bool) -> tuple[Purchase | None, bool, str]:
    """(purchase, created, reason it is not recorded)."""
    reason = _unrecorded_reason(order)
    if reason:
        return None, False, reason
    known = purchase_known(source=store.source, external_id=order.order_id)
    if known is not None:
        return known, False, ""
    if historical:  # the past: recorded as a fact, nothing announced or sent
        with transaction.atomic():
            rows, _line_of = _import_rows([order])
            imported = purchases_import_rows(rows=rows, source=store.source,
                                             skip_invalid=True, historical=True,
                                             store=store.key)
        if imported.errors:
            return None, False, " ".join(imported.errors[0][2])[:500]
        return (purchase_known(source=store.source, external_id=order.order_id),
                imported.purchases_created > 0, "")
    customer = order.customer
    try:
        with transaction.atomic():
            result = purchase_record_by_email(
                email=customer.email, first_name=customer.first_name,
                last_name=customer.last_name, purchased_at=order.created_at, amount=None,
                currency=order.currency, channel=order.channel_label, source=store.source,
                external_id=order.order_id, code=order.code, store=store.key,
                lines=[{"sku": line.sku, "name": line.name, "category": line.category,
                        "quantity": line.quantity, "unit_price": line.unit_price,
                        "discount": line.discount} for line in order.lines])
    except ValidationError as error:
        return None, False, " ".join(error.messages)[:500]
    return result.purchase, result.created, ""


def _refund_in_full(purchase: Purchase, at: dt.datetime) -> None:
    current = Purchase.objects.filter(pk=purchase.pk).values_list("refunded_at", flat=True)
    if current.first() is None:
        purchase_refund(purchase=purchase, refunded_at=at)


def _refund_apply(shop_order: ShopOrder, purchase: Purchase, refund: RefundData) -> bool:
    """Apply one refund unless applied before; True when its id was added (save the row)."""
    if refund.refund_id in shop_order.refund_ids:
        return False
    shop_order.refund_ids = [*shop_order.refund_ids, refund.refund_id]
    current = Purchase.objects.get(pk=purchase.pk)
    left = current.amount - current.refunded_amount
    if current.refunded_at is not None or left <= 0:
        return True
    lines = _refund_lines(shop_order, refund)
    amount: Decimal | None = min(refund.amount, left) if refund.amount > 0 else None
    if amount is None and not lines:
        return True  # nothing of the merchandise (a shipping-only refund)
    try:
        purchase_refund(purchase=current, amount=amount, refunded_at=refund.refunded_at,
                        lines=lines or None)
    except ValidationError as error:
        logger.warning("Refund %s of order %s (%s) not applied: %s", refund.refund_id,
                       shop_order.order_id, shop_order.store_id, " ".join(error.messages))
    return True


def _refund_lines(shop_order: ShopOrder, refund: RefundData) -> dict[int, Decimal]:
    """{purchase line id: quantity} of the refund's lines, each capped at what is left."""
    wanted: dict[int, Decimal] = {}
    for line_id, quantity in refund.lines:
        mapped = shop_order.line_map.get(line_id)
        if mapped is not None and quantity > 0:
            wanted[int(mapped)] = wanted.get(int(mapped), Decimal(0)) + quantity
    if not wanted:
        return {}
    left = {pk: quantity - refunded for pk, quantity, refunded in PurchaseLine.objects.filter(
        pk__in=wanted).values_list("pk", "quantity", "refunded_quantity")}
    return {pk: min(quantity, left[pk]) for pk, quantity in wanted.items()
            if left.get(pk, 0) > 0}


def _customer_from_order(store: Store, order: OrderData, shop_order: ShopOrder) -> None:
    """The buyer's blank names and phone filled, and the shop's consent, on a contact the
    order was recorded for (or one known by its email)."""
    customer = order.customer
    if not customer.email.strip() or (customer.consent is None and not customer.phone):
        return
    if shop_order.purchase_id is not None:
        contact = Contact.objects.filter(purchases__pk=shop_order.purchase_id).first()
    else:
        contact = Contact.objects.filter(email=normalise_email(customer.email)).first()
    if contact is not None:
        _fill_blanks(contact, customer)
        _consent(store, contact, customer)


def _consent(store: Store, contact: Contact, customer: CustomerData) -> None:
    """The shop's consent to the ledger, unless the contact decided later (module doc)."""
    consent = customer.consent
    if consent is None:
        return
    decided = contact.consent_changed_at
    if decided is not None and consent.given and (
            consent.occurred_at is None or consent.occurred_at <= decided):
        return
    if decided is not None and not consent.given and (
            consent.occurred_at is not None and consent.occurred_at <= decided):
        return
    try:
        with transaction.atomic():
            consent_record(contact=contact, given=consent.given, method=ConsentMethod.SHOP,
                           source=store.source, language=customer.language,
                           occurred_at=consent.occurred_at, evidence=consent.evidence)
    except ValidationError as error:  # no consent wording published in that language
        logger.warning("Store %s: consent of contact %s not recorded: %s", store.key,
                       contact.pk, " ".join(error.messages))


def _fill_blanks(contact: Contact, customer: CustomerData) -> None:
    changes = {field: value.strip() for field, value in (
        ("first_name", customer.first_name), ("last_name", customer.last_name),
        ("phone", customer.phone)) if value.strip() and not getattr(contact, field)}
    if not changes:
        return
    try:
        with transaction.atomic():
            contact_update(contact=contact, **changes)
    except ValidationError:  # a phone number that is not one: the names still go in
        contact.refresh_from_db()
        changes.pop("phone", None)
        if changes:
            contact_update(contact=contact, **changes)


def _last_order_seen(store: Store, times: Iterable[dt.datetime]) -> None:
    latest = max(times, default=None)
    if latest is None:
        return
    updated = Store.objects.filter(pk=store.pk).filter(
        Q(last_order_at__isnull=True) | Q(last_order_at__lt=latest)).update(
        last_order_at=latest)
    if updated:
        store.last_order_at = latest


def _fetch_order(store: Store, order_id: str) -> OrderData | None:
    """The order from the platform's API (None: it cannot say, or not now)."""
    platform = store.platform_impl
    if type(platform).order is Platform.order:  # the platform has no one-order call
        return None
    try:
        with ShopHTTP() as http:
            return platform.order(store.access(), http, order_id)
    except ConnectorError as error:
        logger.info("Store %s: order %s not fetched: %s", store.key, order_id, error.message)
        return None
