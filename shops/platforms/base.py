"""What a platform gives the connector, in plain values: no models, no database.

A platform module (shops.platforms.woocommerce, .shopify, .ideasoft) does three things:
- verifies a webhook delivery's signature and reads it into a `WebhookEvent`;
- pages through the store's orders over its API (`orders_page`), for the backfill of the
  whole history (by cursor) and for the reconciliation poll (updated since a time);
- tells whether the credentials work (`test_connection`).
Everything else (storing deliveries, recording purchases once, refunds, contacts, consent,
jobs, status) is the connector's (shops.services, shops.tasks) and the same for every platform.

Money rule for lines (docs/integrations-shops.md): a line is what the buyer paid for that
product, tax included when the buyer paid tax on it; `unit_price` x `quantity` - `discount` is
the line's total, `discount` the line's share of every discount and coupon. Shipping, fees and
gift cards are not lines and not in the purchase's amount (customers.services.lines): a
purchase's amount is what its lines add up to. `line_money` does the arithmetic.
"""
import datetime as dt
import enum
from abc import ABC, abstractmethod
from contextlib import AbstractContextManager
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, ClassVar

from babel.numbers import get_currency_precision
from django.utils.functional import Promise

if TYPE_CHECKING:
    from ..http import ShopHTTP


class ConnectorError(Exception):
    """Talking to the store's API failed. `kind` says how: the status page shows it, and the
    jobs decide from it whether to try again later (UNAVAILABLE, RATE_LIMITED) or wait for a
    manager (AUTH, BAD_ANSWER, BLOCKED)."""

    AUTH = "auth"  # 401/403: credentials wrong, revoked or expired
    RATE_LIMITED = "rate_limited"  # 429 after the retries allowed
    UNAVAILABLE = "unavailable"  # 5xx, timeout, connection refused, DNS
    BAD_ANSWER = "bad_answer"  # not JSON, or not the shape the platform documents
    BLOCKED = "blocked"  # the store's address is a private one (server-side request forgery)

    def __init__(self, kind: str, message: str, *, retry_after: float | None = None,
                 status: int | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after
        self.status = status


class WebhookRefused(Exception):
    """A delivery not taken: `status` is the HTTP answer (401 bad or missing signature, 400
    malformed body), `message` the log line's reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass(frozen=True)
class StoreAccess:
    """A connected store as a platform needs it: decrypted, read-only."""

    key: str  # the store's key: its product catalogue and its orders' id prefix
    base_url: str  # "https://shop.example.com" (no trailing slash)
    credentials: Mapping[str, str]  # the platform's CredentialField names -> values
    webhook_secret: str = ""  # what deliveries are signed with
    # Called with the whole new credentials when the platform renewed them (an OAuth access
    # token refreshed): the connector stores them encrypted. None: nothing is kept.
    save_credentials: Callable[[dict[str, str]], None] | None = field(
        default=None, compare=False, repr=False)
    # A context manager holding the store's renewal lock across processes (the store's row,
    # locked) and giving its credentials as stored now: a platform renewing a one-use refresh
    # token does it inside, and finds there a renewal another process made meanwhile. None:
    # no lock but the platform's own in-process one.
    renewal: Callable[[], AbstractContextManager[Mapping[str, str]]] | None = field(
        default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CredentialField:
    """One thing a manager types to connect a store (the form is built from these)."""

    name: str
    label: "str | Promise"  # translated lazily
    secret: bool = True  # stored encrypted, never shown again, blank keeps the stored one
    help_text: "str | Promise" = ""
    required: bool = True


@dataclass(frozen=True)
class LineData:
    line_id: str  # the platform's id of the line item: refunds name it
    sku: str  # SKU, else the platform's product id (as text); "" when neither
    name: str
    category: str
    quantity: Decimal
    unit_price: Decimal
    discount: Decimal = Decimal(0)


@dataclass(frozen=True)
class ConsentData:
    """What the shop knows of the customer's marketing email consent."""

    given: bool
    occurred_at: dt.datetime | None = None
    # The platform's own words, kept in the consent ledger as evidence (max 200 chars):
    # "IdeaSoft member 42: allowedToCampaigns=1, kvkkStatus=1".
    evidence: str = ""


@dataclass(frozen=True)
class CustomerData:
    email: str
    customer_id: str = ""  # "" for a guest checkout
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    language: str = ""  # "tr", "en", ... when the platform says
    consent: ConsentData | None = None  # None: the platform said nothing about consent


class OrderState(enum.StrEnum):
    PENDING = "pending"  # not paid (yet): not a purchase; recorded when it is paid
    PAID = "paid"  # a purchase (refunds may take part or all of it back)
    CANCELLED = "cancelled"  # never was or is no longer a purchase: refunded in full if recorded


@dataclass(frozen=True)
class RefundData:
    refund_id: str
    amount: Decimal  # this refund's merchandise amount in the order's currency, positive
    refunded_at: dt.datetime | None = None
    lines: tuple[tuple[str, Decimal], ...] = ()  # (LineData.line_id, quantity)


@dataclass(frozen=True)
class OrderData:
    order_id: str
    created_at: dt.datetime  # aware
    updated_at: dt.datetime  # aware
    state: OrderState
    currency: str
    lines: tuple[LineData, ...]
    customer: CustomerData
    number: str = ""  # as the shop shows it: "#1001"
    code: str = ""  # the first coupon code used
    channel_label: str = ""  # the shop's own channel label: "web", "pos", "Trendyol"
    refunds: tuple[RefundData, ...] = ()
    # The refunds are the order's summary only (WooCommerce's order JSON): amounts that may
    # include refunded shipping, no lines. The engine fetches the order (Platform.order) for
    # the refunds in full before applying them (shops.services.sync, the webhook door).
    refunds_summarised: bool = False


@dataclass(frozen=True)
class OrdersPage:
    orders: tuple[OrderData, ...]
    next_cursor: str | None  # None: this was the last page
    total: int | None = None  # how many orders in all, when the platform says (progress)


@dataclass(frozen=True)
class RefundedOrdersPage:
    """One page of the ids of orders with refunds, for platforms that keep refunds apart
    from orders (Platform.refunds_apart)."""

    order_ids: tuple[str, ...]
    next_cursor: str | None  # None: this was the last page


class EventKind(enum.StrEnum):
    ORDER = "order"  # created or updated: recorded once, then its refunds and cancellation
    REFUND = "refund"  # one refund of an order (order_id, refund)
    CUSTOMER = "customer"  # created or updated: contact, names, consent
    CUSTOMER_REDACT = "customer_redact"  # the platform asks to erase a customer (emails)
    CUSTOMER_DATA_REQUEST = "customer_data_request"  # the platform asks what we hold (emails)
    SHOP_REDACT = "shop_redact"  # the store uninstalled the app: forget the store's secrets
    PING = "ping"  # a test delivery: answered 200, nothing to do
    IGNORED = "ignored"  # a topic the connector does not use


@dataclass(frozen=True)
class WebhookEvent:
    kind: EventKind
    topic: str
    order: OrderData | None = None
    order_id: str = ""  # REFUND: the order refunded
    refund: RefundData | None = None
    customer: CustomerData | None = None
    emails: tuple[str, ...] = ()  # the privacy topics: whose data
    occurred_at: dt.datetime | None = None  # when the platform says the change happened


@dataclass(frozen=True)
class DeliveryMeta:
    """What the door reads from a delivery before it is stored (no body parsing)."""

    topic: str
    delivery_id: str  # the platform's id of this delivery ("" when it sends none)
    webhook_id: str = ""


class Platform(ABC):
    key: ClassVar[str]  # "woocommerce"
    label: ClassVar["str | Promise"]  # "WooCommerce"
    credential_fields: ClassVar[tuple[CredentialField, ...]]
    # Topics to subscribe to, as the platform names them (set-up page and docs).
    webhook_topics: ClassVar[tuple[str, ...]]
    # Who picks the secret webhooks are signed with. True: the CRM makes one up and the manager
    # pastes it into the store's webhook settings (WooCommerce). False: the platform has its
    # own (Shopify: the app's client secret) and the manager types it in the store's form.
    webhook_secret_generated: ClassVar[bool] = False
    # How long the platform waits for a webhook's answer, in seconds (docs, tests).
    webhook_timeout: ClassVar[float] = 5.0
    page_size: ClassVar[int] = 100
    # Refunds are objects of their own the orders list does not carry (IdeaSoft's refund
    # requests): after its orders, a backfill reads refunded_orders_page and fetches each
    # such order with its refunds (Platform.order).
    refunds_apart: ClassVar[bool] = False

    @abstractmethod
    def delivery_meta(self, headers: Mapping[str, str]) -> DeliveryMeta:
        """The topic and delivery id from the delivery's headers (case-insensitive mapping)."""

    @abstractmethod
    def verify_webhook(self, access: StoreAccess, headers: Mapping[str, str],
                       body: bytes) -> None:
        """Raise WebhookRefused(401) unless `body` carries a valid signature made with the
        store's secret (compared in constant time). Pure: no I/O."""

    @abstractmethod
    def read_webhook(self, topic: str, body: bytes) -> WebhookEvent:
        """The delivery's body read into an event (run by the worker, from the stored body).
        WebhookRefused(400) for a body that is not JSON or not the documented shape."""

    @abstractmethod
    def test_connection(self, access: StoreAccess, http: "ShopHTTP") -> str:
        """The store's name (or address) as its API answers with these credentials;
        ConnectorError otherwise."""

    @abstractmethod
    def orders_page(self, access: StoreAccess, http: "ShopHTTP", *, cursor: str | None,
                    updated_since: dt.datetime | None = None) -> OrdersPage:
        """One page of orders. Backfill: updated_since None, oldest first, `cursor` None for
        the first page then each page's next_cursor (resumable: a cursor stored after a page
        carries on after a crash). Poll: the orders changed since `updated_since`."""

    def order(self, access: StoreAccess, http: "ShopHTTP", order_id: str) -> OrderData | None:
        """One order by id (None: not found). Optional: a webhook naming only an id uses it."""
        raise NotImplementedError

    def customer(self, access: StoreAccess, http: "ShopHTTP",
                 customer_id: str) -> CustomerData | None:
        """One customer by the platform's id (None: not found). Optional: a webhook naming
        only an id and the changed fields (IdeaSoft's member/update) uses it."""
        raise NotImplementedError

    def refunded_orders_page(self, access: StoreAccess, http: "ShopHTTP", *,
                             cursor: str | None) -> RefundedOrdersPage:
        """The ids of orders with refunds, a page at a time, oldest refund first (`cursor`
        None first, then each page's next_cursor). Required when refunds_apart."""
        raise NotImplementedError


def line_money(*, quantity: Decimal, before_discount: Decimal, after_discount: Decimal,
               currency: str) -> tuple[Decimal, Decimal]:
    """(unit_price, discount) for a line the buyer paid `after_discount` for, listed at
    `before_discount` (both for the whole quantity, tax as the buyer paid it). The unit price
    is rounded to the currency's minor unit; the discount takes up the rounding, so that
    unit_price x quantity - discount == after_discount (never negative)."""
    minor = Decimal(1).scaleb(-min(get_currency_precision(currency), 3))
    quantity = quantity if quantity > 0 else Decimal(1)
    unit_price = (before_discount / quantity).quantize(minor, rounding=ROUND_HALF_UP)
    listed = unit_price * quantity
    if listed < after_discount:  # rounding down took more than the discount gives back
        unit_price = (after_discount / quantity).quantize(minor, rounding="ROUND_UP")
        listed = unit_price * quantity
    discount = (listed - after_discount).quantize(minor, rounding=ROUND_HALF_UP)
    return unit_price, max(discount, Decimal(0))
