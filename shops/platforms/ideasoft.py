"""IdeaSoft (Turkish e-commerce platform): its Admin API with OAuth 2 and its webhooks.

What IdeaSoft documents (https://apidoc.ideasoft.dev, the "Ideashop API" OpenAPI 3.0.0; the
webhook page https://apidoc.ideasoft.dev/docs/webhooks; shops/tests/payloads/ideasoft/README.md
lists every source) and how this module reads it:

Credentials. A store's manager creates an app ("Uygulamalar / API") in the IdeaSoft panel and
gets a client id and secret; the app is authorised with the OAuth 2 authorization code flow:
the manager's browser goes to `https://<store>.myideasoft.com/panel/auth?client_id=..&
response_type=code&state=..&redirect_uri=..`, comes back to the redirect address with `code`
and `state`, and `POST /oauth/v2/token` (form: grant_type=authorization_code, client_id,
client_secret, code, redirect_uri) answers `{access_token, refresh_token, expires_in,
token_type, scope}` (`authorization_url` and `tokens_from_code` below). The access token lives
about a day, the refresh token about two months (not stated by IdeaSoft's reference; clients
report it). Every API call sends `Authorization: Bearer <access token>`. When the API answers
401 (expired access token), the module renews it once with `POST /oauth/v2/token`
(grant_type=refresh_token, client_id, client_secret, refresh_token), hands the new pair to
`StoreAccess.save_credentials` (a refresh token is used up by the renewal: the new one must be
kept) and repeats the call; a refused renewal is ConnectorError(AUTH): a manager must authorise
the app again. Renewed tokens are remembered for the rest of the process, so the later pages
of a job whose StoreAccess still holds the old pair do not renew a second time.

Orders. `GET /admin-api/orders` answers a JSON array; `limit` (at most 100), `page`, `sinceId`
("only the records after this id"), `sort=id`. The backfill pages by `sinceId` with `sort=id`
(oldest first; the cursor is the last id seen, so a crash resumes after it). The total comes
from the `total_count` response header when the store sends it, else from `GET
/admin-api/orders/count`; neither is essential (only the progress bar uses it). The orders
list has no updated-since filter (only `startCreatedAt`/`endCreatedAt`, whole dates), so the
reconciliation poll reads the orders *created* in the last POLL_LOOKBACK_DAYS days before
`updated_since` (the same `sinceId` paging) and keeps those whose `updatedAt` is at or after
`updated_since`: a cancellation or refund of an older order reaches the connector by webhook
only (or by a new backfill). Thirty days cover the 14-day right of withdrawal of Turkish
distance sales plus delivery.

Order state (`status`, `paymentStatus`):
- `cancelled`, `deleted` -> CANCELLED; `refunded` -> CANCELLED too (a refunded order is a
  full refund of what was recorded);
- `paymentStatus` `success` -> PAID, whatever the fulfilment status (waiting_for_approval,
  approved, being_prepared, on_accumulation, fulfilled, delivered, personal_status_1..3);
- `delivered` -> PAID even without `success` (cash on delivery is collected on delivery);
- everything else (`waiting_for_payment`, `paymentStatus` `in_transaction` or `failed`) ->
  PENDING: not a purchase until paid.

Money. IdeaSoft writes the lira "TL" (also seen: "YTL", "TRL"): read as ISO "TRY"; "EURO" is
"EUR". An order's `amount` is its price without tax, `taxAmount` the tax, `couponDiscount` the
gift-certificate (coupon) discount, `promotionDiscount` the promotion's, and `generalAmount`
documented as amount - couponDiscount + taxAmount - promotionDiscount + shippingAmount +
additionalServiceAmount; `finalAmount` adds the instalment interest. What the buyer paid for
the goods is therefore generalAmount - shippingAmount - additionalServiceAmount (shipping,
extra services such as gift wrapping and instalment interest are left out). An order item has
`productPrice` (unit price without tax), `productTax` (the VAT rate in percent),
`productDiscount` and `productMoneyOrderDiscount` (per-unit standard and bank-transfer
discounts). A line is listed at productPrice x quantity with its VAT; what the buyer paid for
the goods is shared among the lines in proportion to each line's price after its own
discounts (with VAT), so the order-level coupon and promotion discounts fall on the lines as
they were spread at checkout, and the lines add up exactly to what was paid
(base.line_money).

Refunds. An order carries no refunds; IdeaSoft keeps returns as refund requests
(`/admin-api/order_refund_requests`: `status` approved / waiting_for_approval / cancelled,
`fee` "the amount to pay the customer", `refundRequestItems` naming the order item and the
quantity). An approved request is a refund (`with_refunds`): the lines' money for the
quantities returned, at most the fee. They are read with the order when one order is fetched
(`order()`, one request filtered by `order`) and, for the poll, once per page (the latest 100
approved requests); the backfill does not read them (the list has no filter by several
orders): a fully refunded order is still `refunded`. The order's updated_at is moved to its
latest refund's, so the connector sees the order as changed. The orders list carries none
(refunds_apart): a backfill reads the approved requests after the orders
(`refunded_orders_page`, oldest first, `sinceId` paging) and fetches each order they name.

Categories: an order item names its product (`product.id`) but not its category; the
categories come from `GET /admin-api/products?ids=..` once per page (the product's first
category). Scopes the app needs: order_read, member_read, product_read and
order_refund_request_read; without the last two an order is read without categories or
refunds (logged) rather than not at all. Coupon code: the order object has no coupon-code field (only the amount; the
list's `couponCode` filter shows the shop keeps it): it is read from an `orderDetails` entry
whose key names a coupon, when there is one. Channel label: the order's `source` ("the
software the order came from"), else "ideasoft". Guests: an order without a `member` is a
guest checkout (customer id ""), recorded by its `customerEmail`. Dates carry Turkish offsets
("2018-02-21T09:36:03+0300"); a date without an offset is read as Istanbul time.

Webhooks. Topics used: order/create, order/update, member/create, member/update (10 s to
answer, webhook_timeout). The signature header `X-Ideashop-Hmac-Sha256` is
base64(HMAC-SHA256(key, raw body)) with the app's client secret as the key (the store's
webhook secret when one is set, else the client_secret credential); compared in constant time,
base64 only, as documented. IdeaSoft documents neither a topic header nor a delivery id: each
subscription has its own address, and the body says what it is. So `delivery_meta` takes the
topic from an `X-Ideashop-Topic` header if one comes and otherwise leaves it "" (the delivery
id is "" and the engine keys the delivery on a hash of the body); `read_webhook` infers the
kind from the body when the topic is unknown. IdeaSoft sends only the fields that changed: an
order/update naming only `id`, `status`, `updatedAt` becomes an ORDER event without an order
(`order=None`, `order_id` set) and the connector fetches the order (`order()`); a
member/update without `email` becomes a CUSTOMER event with the member id only, to be fetched
with `customer()`.

Consent. A member carries `allowedToCampaigns` (may receive campaign messages: e-mail
marketing), `allowedToSms`, `allowedToPhone` and `kvkkStatus`: whether the member accepted the
KVKK text (Law 6698 on personal data: the privacy notice / explicit consent to processing). The
CRM's consent is consent to marketing e-mail, so it follows allowedToCampaigns alone:
kvkkStatus is about processing personal data, not about receiving marketing, and SMS or phone
permissions are other channels. All flags sent are kept as evidence ("IdeaSoft member 42:
allowedToCampaigns=1, allowedToSms=0, kvkkStatus=1"), dated by allowedToCampaignsUpdatedAt,
else the member's updatedAt. A member payload without allowedToCampaigns says nothing about
consent (None).
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import logging
import threading
from collections.abc import Iterable, Mapping
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from django.utils.translation import gettext_lazy as _

from . import register
from .base import (
    ConnectorError,
    ConsentData,
    CredentialField,
    CustomerData,
    DeliveryMeta,
    EventKind,
    LineData,
    OrderData,
    OrdersPage,
    OrderState,
    Platform,
    RefundData,
    RefundedOrdersPage,
    StoreAccess,
    WebhookEvent,
    WebhookRefused,
    line_money,
)

if TYPE_CHECKING:
    from ..http import ShopHTTP

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Ideashop-Hmac-Sha256"
TOPIC_HEADER = "X-Ideashop-Topic"  # not documented; used when IdeaSoft sends it
TOKEN_PATH = "/oauth/v2/token"
AUTHORIZE_PATH = "/panel/auth"
ISTANBUL = ZoneInfo("Europe/Istanbul")
POLL_LOOKBACK_DAYS = 30
TOTAL_HEADERS = ("total_count", "X-Total-Count")

ORDER_TOPICS = ("order/create", "order/update")
MEMBER_TOPICS = ("member/create", "member/update")

CANCELLED_STATUSES = frozenset({"cancelled", "deleted", "refunded"})
MEMBER_STATUSES = frozenset({"active", "passive", "queue", "suspended"})
# Keys only an order (or only a member) has: a body without a topic is read by these.
ORDER_KEYS = frozenset({"orderItems", "customerEmail", "customerFirstname", "paymentStatus",
                        "finalAmount", "generalAmount", "amount", "transactionId"})
MEMBER_KEYS = frozenset({"email", "firstname", "surname", "kvkkStatus", "allowedToCampaigns",
                         "allowedToSms", "allowedToPhone", "mobilePhoneNumber"})
CONSENT_FLAGS = ("allowedToCampaigns", "allowedToSms", "allowedToPhone", "kvkkStatus")

# IdeaSoft's own spellings of currencies -> ISO 4217.
CURRENCY_ALIASES = {"TL": "TRY", "YTL": "TRY", "TRL": "TRY", "₺": "TRY", "EURO": "EUR",
                    "€": "EUR", "$": "USD", "US$": "USD", "£": "GBP", "STG": "GBP"}


class IdeaSoftPlatform(Platform):
    key = "ideasoft"
    label = "IdeaSoft"
    credential_fields = (
        CredentialField("client_id", _("Client ID"), secret=False,
                        help_text=_("From the app created under Apps / API in the IdeaSoft "
                                    "panel.")),
        CredentialField("client_secret", _("Client secret"),
                        help_text=_("The same app's secret; IdeaSoft also signs its webhooks "
                                    "with it.")),
        CredentialField("access_token", _("Access token"),
                        help_text=_("Given when the app is authorised; renewed "
                                    "automatically.")),
        CredentialField("refresh_token", _("Refresh token"),
                        help_text=_("Given with the access token; used to renew it.")),
    )
    webhook_topics = ORDER_TOPICS + MEMBER_TOPICS
    webhook_timeout = 10.0
    page_size = 100
    refunds_apart = True  # refund requests: read after the orders by a backfill

    def __init__(self) -> None:
        # (store key, access token no longer valid) -> the credentials that replaced it.
        self._renewed: dict[tuple[str, str], dict[str, str]] = {}
        self._lock = threading.Lock()
        self._store_locks: dict[str, threading.Lock] = {}

    # --- webhooks ----------------------------------------------------------------------------

    def delivery_meta(self, headers: Mapping[str, str]) -> DeliveryMeta:
        return DeliveryMeta(topic=(headers.get(TOPIC_HEADER) or "").strip(), delivery_id="")

    def verify_webhook(self, access: StoreAccess, headers: Mapping[str, str],
                       body: bytes) -> None:
        given = (headers.get(SIGNATURE_HEADER) or "").strip()
        secret = access.webhook_secret or access.credentials.get("client_secret", "")
        if not given:
            raise WebhookRefused(401, f"no {SIGNATURE_HEADER} header")
        if not secret:
            raise WebhookRefused(401, "the store has no client secret to check signatures with")
        if not hmac.compare_digest(given.encode(), sign(secret, body).encode()):
            raise WebhookRefused(401, f"{SIGNATURE_HEADER} does not match the body")

    def read_webhook(self, topic: str, body: bytes) -> WebhookEvent:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as error:
            raise WebhookRefused(400, f"IdeaSoft {topic or 'delivery'} is not JSON: {error}"
                                 ) from None
        if not isinstance(data, dict) or not _is_id(data.get("id")):
            raise WebhookRefused(400, f"IdeaSoft {topic or 'delivery'} has no object id")
        kind = _topic_kind(topic) if topic else _body_kind(data)
        try:
            if kind == EventKind.ORDER:
                occurred = _time_or_none(data.get("updatedAt"))
                if _is_full_order(data):
                    return WebhookEvent(kind=kind, topic=topic, order=read_order(data),
                                        occurred_at=occurred)
                return WebhookEvent(kind=kind, topic=topic, order_id=str(data["id"]),
                                    occurred_at=occurred)
            if kind == EventKind.CUSTOMER:
                customer = read_member(data)
                return WebhookEvent(kind=kind, topic=topic, customer=customer,
                                    occurred_at=_time_or_none(data.get("updatedAt")))
        except (ValueError, KeyError, TypeError, ArithmeticError) as error:
            raise WebhookRefused(400, f"malformed IdeaSoft {topic or 'delivery'}: {error!r}"
                                 ) from None
        return WebhookEvent(kind=EventKind.IGNORED, topic=topic)

    # --- the API -----------------------------------------------------------------------------

    def test_connection(self, access: StoreAccess, http: "ShopHTTP") -> str:
        # The orders list with one order: cheap, and needs the order_read scope the connector
        # needs (a store's settings or currencies need scopes it does not).
        body, _headers = self._get(access, http, "/admin-api/orders",
                                   params={"limit": 1, "sort": "-id"})
        if not isinstance(body, list):
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 "IdeaSoft's orders list is not a list")
        return urlsplit(access.base_url).hostname or access.base_url

    def orders_page(self, access: StoreAccess, http: "ShopHTTP", *, cursor: str | None,
                    updated_since: dt.datetime | None = None) -> OrdersPage:
        params: dict[str, Any] = {"sort": "id", "limit": self.page_size}
        if cursor:
            params["sinceId"] = int(cursor)
        if updated_since is not None:
            since = updated_since.astimezone(ISTANBUL) - dt.timedelta(days=POLL_LOOKBACK_DAYS)
            params["startCreatedAt"] = since.date().isoformat()
        body, headers = self._get(access, http, "/admin-api/orders", params=params)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 "IdeaSoft's orders list is not a list of orders")
        categories = self._categories(access, http, body)
        orders = tuple(_read_api_order(data, categories) for data in body)
        if updated_since is not None and orders:
            refunds = self._refund_requests(access, http, {"sort": "-id"})
            orders = tuple(_with_api_refunds(order, refunds.get(order.order_id, ()))
                           for order in orders)
            orders = tuple(order for order in orders if order.updated_at >= updated_since)
        next_cursor = str(body[-1]["id"]) if len(body) >= self.page_size else None
        total = None
        if cursor is None and updated_since is None:
            total = self._total(access, http, headers)
        return OrdersPage(orders=orders, next_cursor=next_cursor, total=total)

    def order(self, access: StoreAccess, http: "ShopHTTP", order_id: str) -> OrderData | None:
        body = self._get_one(access, http, f"/admin-api/orders/{int(order_id)}")
        if body is None:
            return None
        order = _read_api_order(body, self._categories(access, http, [body]))
        refunds = self._refund_requests(access, http, {"order": int(order_id)})
        return _with_api_refunds(order, refunds.get(order.order_id, ()))

    def refunded_orders_page(self, access: StoreAccess, http: "ShopHTTP", *,
                             cursor: str | None) -> RefundedOrdersPage:
        """The orders of approved refund requests, oldest request first: a backfill reads
        the orders list, which carries no refunds, and then these (none, logged, when the
        app may not read refund requests)."""
        params: dict[str, Any] = {"status": "approved", "sort": "id", "limit": 100}
        if cursor:
            params["sinceId"] = int(cursor)
        body = self._get_optional(access, http, "/admin-api/order_refund_requests",
                                  params=params)
        requests = [request for request in body if isinstance(request, dict)
                    and _is_id(request.get("id"))] if isinstance(body, list) else []
        order_ids: dict[str, None] = {}
        for request in requests:
            order = request.get("order")
            if isinstance(order, dict) and _is_id(order.get("id")):
                order_ids[str(int(order["id"]))] = None
        next_cursor = (str(int(requests[-1]["id"])) if len(requests) >= params["limit"]
                       else None)
        return RefundedOrdersPage(order_ids=tuple(order_ids), next_cursor=next_cursor)

    def customer(self, access: StoreAccess, http: "ShopHTTP",
                 customer_id: str) -> CustomerData | None:
        """The member by id (None: not found): a member/update names only what changed."""
        body = self._get_one(access, http, f"/admin-api/members/{int(customer_id)}")
        if body is None:
            return None
        try:
            return read_member(body)
        except (ValueError, KeyError, TypeError) as error:
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 f"IdeaSoft member {customer_id} unreadable: {error!r}") from None

    # --- OAuth -------------------------------------------------------------------------------

    def _credentials(self, access: StoreAccess) -> dict[str, str]:
        credentials = dict(access.credentials)
        with self._lock:
            seen = set()
            while (access.key, credentials.get("access_token", "")) in self._renewed:
                token = credentials.get("access_token", "")
                if token in seen:
                    break
                seen.add(token)
                credentials = dict(self._renewed[(access.key, token)])
        return credentials

    def _get(self, access: StoreAccess, http: "ShopHTTP", path: str,
             params: Mapping[str, Any] | None = None) -> tuple[Any, Mapping[str, str]]:
        credentials = self._credentials(access)
        url = f"{access.base_url}{path}"
        try:
            return http.get_json(url, params=params, headers=_bearer(credentials))
        except ConnectorError as error:
            if error.kind != ConnectorError.AUTH or error.status != 401:
                raise
        credentials = self._renew(access, http, credentials)
        return http.get_json(url, params=params, headers=_bearer(credentials))

    def _get_optional(self, access: StoreAccess, http: "ShopHTTP", path: str,
                      params: Mapping[str, Any] | None = None) -> Any:
        """What only enriches an order (categories, refunds): None when the app's scopes do
        not allow it (403) or the store does not have it (404), instead of failing the page."""
        try:
            body, _headers = self._get(access, http, path, params=params)
        except ConnectorError as error:
            if error.status in (403, 404):
                logger.warning("IdeaSoft %s: %s (read without it)", path, error.message)
                return None
            raise
        return body

    def _get_one(self, access: StoreAccess, http: "ShopHTTP", path: str) -> dict | None:
        try:
            body, _headers = self._get(access, http, path)
        except ConnectorError as error:
            if error.kind == ConnectorError.BAD_ANSWER and error.status == 404:
                return None
            raise
        if not isinstance(body, dict) or not _is_id(body.get("id")):
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 f"IdeaSoft's answer for {path} is not an object")
        return body

    def _renew(self, access: StoreAccess, http: "ShopHTTP",
               credentials: dict[str, str]) -> dict[str, str]:
        """New tokens by the refresh token, saved; ConnectorError(AUTH) when refused. One
        renewal at a time per store in this process: a refresh token works once, so a second
        thread that met the same expired token takes the first one's result."""
        with self._lock:
            store_lock = self._store_locks.setdefault(access.key, threading.Lock())
        with store_lock:
            current = self._credentials(access)
            if current.get("access_token") != credentials.get("access_token"):
                return current  # renewed meanwhile in this process
            if access.renewal is None:
                return self._renew_now(access, http, credentials)
            # Another process (a second worker, the web door fetching an order) may have met
            # the same expired token: under the store's lock, its renewal is found, not
            # repeated with a refresh token already used up.
            with access.renewal() as stored:
                if stored.get("access_token") != credentials.get("access_token"):
                    renewed = dict(stored)
                    with self._lock:
                        self._renewed[(access.key, credentials.get("access_token", ""))] = renewed
                    return renewed
                return self._renew_now(access, http, credentials)

    def _renew_now(self, access: StoreAccess, http: "ShopHTTP",
                   credentials: dict[str, str]) -> dict[str, str]:
        old_token = credentials.get("access_token", "")
        try:
            body, _headers = http.post_json(f"{access.base_url}{TOKEN_PATH}", data={
                "grant_type": "refresh_token",
                "client_id": credentials.get("client_id", ""),
                "client_secret": credentials.get("client_secret", ""),
                "refresh_token": credentials.get("refresh_token", ""),
            })
        except ConnectorError as error:
            if error.kind in (ConnectorError.AUTH, ConnectorError.BAD_ANSWER):
                raise ConnectorError(
                    ConnectorError.AUTH,
                    "IdeaSoft refused to renew the access token (the refresh token has expired "
                    "or was revoked): a manager must authorise the app again. "
                    f"{error.message}", status=error.status) from None
            raise
        if not isinstance(body, dict) or not body.get("access_token"):
            raise ConnectorError(ConnectorError.AUTH,
                                 "IdeaSoft's token answer has no access token: a manager must "
                                 "authorise the app again")
        renewed = {**credentials, "access_token": str(body["access_token"]),
                   "refresh_token": str(body.get("refresh_token")
                                        or credentials.get("refresh_token", ""))}
        with self._lock:
            self._renewed[(access.key, old_token)] = renewed
        if access.save_credentials is not None:
            access.save_credentials(dict(renewed))
        return renewed

    # --- per page ----------------------------------------------------------------------------

    def _categories(self, access: StoreAccess, http: "ShopHTTP",
                    orders: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """Product id -> its (first) category name, one request for the page's products."""
        product_ids: set[int] = set()
        for order in orders:
            for item in order.get("orderItems") or ():
                product = item.get("product") if isinstance(item, dict) else None
                if isinstance(product, dict) and _is_id(product.get("id")):
                    if _first_category(product):
                        continue
                    product_ids.add(int(product["id"]))
        found: dict[str, str] = {}
        ids = sorted(product_ids)
        for start in range(0, len(ids), 100):
            chunk = ids[start:start + 100]
            body = self._get_optional(access, http, "/admin-api/products", params={
                "ids": ",".join(str(product_id) for product_id in chunk), "limit": 100})
            for product in body if isinstance(body, list) else ():
                if isinstance(product, dict) and _is_id(product.get("id")):
                    found[str(product["id"])] = _first_category(product)
        return found

    def _refund_requests(self, access: StoreAccess, http: "ShopHTTP",
                         params: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
        """Approved refund requests (one page of them) by order id; none when the app may
        not read them (its order_refund_request_read scope not granted)."""
        body = self._get_optional(access, http, "/admin-api/order_refund_requests",
                                  params={"status": "approved", "limit": 100, **params})
        found: dict[str, list[Mapping[str, Any]]] = {}
        for request in body if isinstance(body, list) else ():
            order = request.get("order") if isinstance(request, dict) else None
            if isinstance(order, dict) and _is_id(order.get("id")) and _is_id(request.get("id")):
                found.setdefault(str(int(order["id"])), []).append(request)
        return found

    def _total(self, access: StoreAccess, http: "ShopHTTP",
               headers: Mapping[str, str]) -> int | None:
        for name in TOTAL_HEADERS:
            value = headers.get(name)
            if value and value.strip().isdigit():
                return int(value)
        try:
            body, _headers = self._get(access, http, "/admin-api/orders/count")
        except ConnectorError as error:
            if error.kind == ConnectorError.BAD_ANSWER:
                return None
            raise
        if isinstance(body, dict):
            body = body.get("count", body.get("total"))
        return body if isinstance(body, int) and not isinstance(body, bool) else None


# --- OAuth authorisation (for the store pages) ---------------------------------------------

def authorization_url(base_url: str, *, client_id: str, redirect_uri: str, state: str) -> str:
    """Where a manager's browser goes to authorise the app (authorization code flow)."""
    query = urlencode({"client_id": client_id, "response_type": "code", "state": state,
                       "redirect_uri": redirect_uri})
    return f"{base_url.rstrip('/')}{AUTHORIZE_PATH}?{query}"


def tokens_from_code(http: "ShopHTTP", base_url: str, *, client_id: str, client_secret: str,
                     code: str, redirect_uri: str) -> dict[str, str]:
    """The access and refresh tokens for the code the redirect brought back."""
    body, _headers = http.post_json(f"{base_url.rstrip('/')}{TOKEN_PATH}", data={
        "grant_type": "authorization_code", "client_id": client_id,
        "client_secret": client_secret, "code": code, "redirect_uri": redirect_uri})
    if not isinstance(body, dict) or not body.get("access_token"):
        raise ConnectorError(ConnectorError.AUTH, "IdeaSoft gave no access token for the code")
    return {"access_token": str(body["access_token"]),
            "refresh_token": str(body.get("refresh_token") or "")}


# --- reading IdeaSoft's objects ------------------------------------------------------------

def sign(secret: str, body: bytes) -> str:
    """X-Ideashop-Hmac-Sha256 for `body`: base64(HMAC-SHA256(secret, body))."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def read_order(data: Mapping[str, Any], categories: Mapping[str, str] | None = None
               ) -> OrderData:
    """A whole IdeaSoft order (API answer or order/create delivery) as the contract's order.
    ValueError/KeyError/TypeError when it is not one."""
    categories = categories or {}
    currency = iso_currency(data.get("currency") or "TL")
    created_at = read_time(data["createdAt"])
    updated_at = _time_or_none(data.get("updatedAt")) or created_at
    items = [item for item in data.get("orderItems") or () if isinstance(item, dict)]
    if len(items) != len(data.get("orderItems") or ()):
        raise ValueError("an order item is not an object")
    member = data.get("member") if isinstance(data.get("member"), dict) else None
    email = (data.get("customerEmail") or (member or {}).get("email") or "").strip()
    consent = _consent(member) if member else None
    customer = CustomerData(
        email=email,
        customer_id=str(member["id"]) if member and _is_id(member.get("id")) else "",
        first_name=(data.get("customerFirstname") or "").strip(),
        last_name=(data.get("customerSurname") or "").strip(),
        phone=(data.get("customerPhone") or "").strip(),
        consent=consent)
    return OrderData(
        order_id=str(int(data["id"])),
        number=str(data.get("transactionId") or data["id"]),
        created_at=created_at, updated_at=updated_at,
        state=order_state(data.get("status"), data.get("paymentStatus")),
        currency=currency,
        lines=_lines(data, items, currency, categories),
        customer=customer,
        code=_coupon_code(data),
        channel_label=str(data.get("source") or "ideasoft")[:100],
    )


def with_refunds(order: OrderData, requests: Iterable[Mapping[str, Any]]) -> OrderData:
    """The order with its approved refund requests as refunds. A refund is worth what the
    buyer paid for the quantities returned (the lines' money), at most the request's `fee`
    (the amount to pay back); a request naming no items is worth its fee. The order counts as
    changed when its latest refund was (refund requests are objects of their own)."""
    refunds = []
    paid_per_unit = {line.line_id: (line.unit_price * line.quantity - line.discount)
                     / line.quantity for line in order.lines if line.quantity > 0}
    minor = Decimal(1).scaleb(-min(get_currency_precision(order.currency), 3))
    updated_at = order.updated_at
    for request in requests:
        if request.get("status") != "approved":
            continue
        lines = []
        amount = Decimal(0)
        for item in request.get("refundRequestItems") or ():
            line = item.get("orderItem") if isinstance(item, dict) else None
            if not isinstance(line, dict) or str(line.get("id")) not in paid_per_unit:
                continue
            quantity = _money(item.get("amount"), default=Decimal(1))
            lines.append((str(line["id"]), quantity))
            amount += paid_per_unit[str(line["id"])] * quantity
        fee = _money(request.get("fee"))
        if lines:
            amount = min(amount, fee) if fee > 0 else amount
        else:
            amount = fee
        amount = amount.quantize(minor, rounding=ROUND_HALF_UP)
        if amount <= 0:
            continue
        refunded_at = (_time_or_none(request.get("updatedAt"))
                       or _time_or_none(request.get("createdAt")))
        if refunded_at is not None and refunded_at > updated_at:
            updated_at = refunded_at
        refunds.append(RefundData(refund_id=str(int(request["id"])), amount=amount,
                                  refunded_at=refunded_at, lines=tuple(lines)))
    if not refunds:
        return order
    return replace(order, refunds=order.refunds + tuple(refunds), updated_at=updated_at)


def read_member(data: Mapping[str, Any]) -> CustomerData:
    """A member (API answer or member/* delivery, maybe only the changed fields)."""
    if not _is_id(data.get("id")):
        raise ValueError("a member without an id")
    return CustomerData(
        email=(data.get("email") or "").strip(),
        customer_id=str(int(data["id"])),
        first_name=(data.get("firstname") or "").strip(),
        last_name=(data.get("surname") or "").strip(),
        phone=(data.get("mobilePhoneNumber") or data.get("phoneNumber") or "").strip(),
        consent=_consent(data))


def order_state(status: Any, payment_status: Any) -> OrderState:
    status = str(status or "")
    if status in CANCELLED_STATUSES:
        return OrderState.CANCELLED
    if payment_status == "success" or status == "delivered":
        return OrderState.PAID
    return OrderState.PENDING


def iso_currency(value: Any) -> str:
    """IdeaSoft's currency spelling as ISO 4217 ("TL" -> "TRY"); ValueError when unknown."""
    text = str(value or "").strip().upper()
    code = CURRENCY_ALIASES.get(text, text)
    if len(code) != 3 or not code.isalpha():
        raise ValueError(f"unknown currency {value!r}")
    return code


def read_time(value: Any) -> dt.datetime:
    """IdeaSoft's date ("2018-02-21T09:36:03+0300") as an aware datetime (no offset:
    Istanbul time)."""
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"not a date: {value!r}")
    moment = dt.datetime.fromisoformat(value.strip())
    return moment if moment.tzinfo else moment.replace(tzinfo=ISTANBUL)


def _time_or_none(value: Any) -> dt.datetime | None:
    try:
        return read_time(value)
    except ValueError:
        return None


def _read_api_order(data: Mapping[str, Any], categories: Mapping[str, str]) -> OrderData:
    try:
        return read_order(data, categories)
    except (ValueError, KeyError, TypeError, ArithmeticError) as error:
        raise ConnectorError(ConnectorError.BAD_ANSWER,
                             f"IdeaSoft order {data.get('id')!r} unreadable: {error!r}"
                             ) from None


def _with_api_refunds(order: OrderData, requests: Iterable[Mapping[str, Any]]) -> OrderData:
    try:
        return with_refunds(order, requests)
    except (ValueError, KeyError, TypeError, ArithmeticError) as error:
        raise ConnectorError(ConnectorError.BAD_ANSWER,
                             f"IdeaSoft refund requests of order {order.order_id} unreadable: "
                             f"{error!r}") from None


def _lines(data: Mapping[str, Any], items: list[dict], currency: str,
           categories: Mapping[str, str]) -> tuple[LineData, ...]:
    minor = Decimal(1).scaleb(-min(get_currency_precision(currency), 3))
    listed: list[Decimal] = []
    net: list[Decimal] = []
    for item in items:
        quantity = _money(item.get("productQuantity"), default=Decimal(1))
        vat = 1 + _money(item.get("productTax")) / 100
        price = _money(item.get("productPrice"))
        own_discounts = (_money(item.get("productDiscount"))
                         + _money(item.get("productMoneyOrderDiscount")))
        listed.append(price * quantity * vat)
        net.append(max(price - own_discounts, Decimal(0)) * quantity * vat)
    paid_total = _goods_paid(data, net).quantize(minor, rounding=ROUND_HALF_UP)
    shares = _shares(paid_total, net, minor)
    lines = []
    for item, before, paid in zip(items, listed, shares, strict=True):
        quantity = _money(item.get("productQuantity"), default=Decimal(1))
        unit_price, discount = line_money(quantity=quantity, before_discount=before,
                                          after_discount=paid, currency=currency)
        product = item.get("product")
        if not isinstance(product, dict):
            product = {}
        product_id = str(product.get("id") or "")
        lines.append(LineData(
            line_id=str(int(item["id"])),
            sku=str(item.get("productSku") or product_id).strip(),
            name=str(item.get("productName") or product.get("fullName") or "").strip(),
            category=_first_category(product) or categories.get(product_id, ""),
            quantity=quantity, unit_price=unit_price, discount=discount))
    return tuple(lines)


def _goods_paid(data: Mapping[str, Any], net: list[Decimal]) -> Decimal:
    """What the buyer paid for the goods (tax included): generalAmount without shipping and
    extra services; from its parts when generalAmount is not sent."""
    if data.get("generalAmount") is not None:
        paid = (_money(data.get("generalAmount")) - _money(data.get("shippingAmount"))
                - _money(data.get("additionalServiceAmount")))
    elif data.get("amount") is not None:
        paid = (_money(data.get("amount")) + _money(data.get("taxAmount"))
                - _money(data.get("couponDiscount")) - _money(data.get("promotionDiscount")))
    else:
        paid = sum(net, Decimal(0))
    return max(paid, Decimal(0))


def _shares(total: Decimal, weights: list[Decimal], minor: Decimal) -> list[Decimal]:
    """`total` split by `weights`, rounded to the minor unit, adding up exactly."""
    if not weights:
        return []
    weight_sum = sum(weights, Decimal(0))
    if weight_sum <= 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    shares = [(total * weight / weight_sum).quantize(minor, rounding=ROUND_HALF_UP)
              for weight in weights[:-1]]
    shares.append(total - sum(shares, Decimal(0)))
    if shares[-1] < 0:  # rounding pushed the last share below zero: take it from the others
        shortfall, shares[-1] = -shares[-1], Decimal(0)
        for index in range(len(shares) - 2, -1, -1):
            taken = min(shares[index], shortfall)
            shares[index] -= taken
            shortfall -= taken
    return shares


def _money(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        raise ValueError(f"not an amount: {value!r}")
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValueError(f"not an amount: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return number


def _first_category(product: Mapping[str, Any]) -> str:
    for category in product.get("categories") or ():
        if isinstance(category, dict) and category.get("name"):
            return str(category["name"]).strip()
    return ""


def _coupon_code(data: Mapping[str, Any]) -> str:
    if isinstance(data.get("couponCode"), str):
        return data["couponCode"].strip()[:100]
    for detail in data.get("orderDetails") or ():
        if not isinstance(detail, dict) or "coupon" not in str(detail.get("varKey", "")).lower():
            continue
        value = detail.get("varValue")
        if isinstance(value, str) and value.strip().startswith("{"):
            try:
                parsed = json.loads(value)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                value = parsed.get("code") or parsed.get("couponCode")
        if isinstance(value, str) and value.strip():
            return value.strip()[:100]
    return ""


def _consent(data: Mapping[str, Any]) -> ConsentData | None:
    if data.get("allowedToCampaigns") is None:
        return None
    flags = ", ".join(f"{name}={_flag_text(data[name])}" for name in CONSENT_FLAGS
                      if data.get(name) is not None)
    return ConsentData(
        given=_flag(data["allowedToCampaigns"]),
        occurred_at=(_time_or_none(data.get("allowedToCampaignsUpdatedAt"))
                     or _time_or_none(data.get("updatedAt"))),
        evidence=f"IdeaSoft member {data.get('id')}: {flags}"[:200])


def _flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value == 1
    text = str(value).strip().lower()
    if text in ("1", "true"):
        return True
    if text in ("0", "false", ""):
        return False
    raise ValueError(f"not a 0/1 flag: {value!r}")


def _flag_text(value: Any) -> str:
    return "1" if _flag(value) else "0"


def _is_id(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value > 0
    return isinstance(value, str) and value.isdigit() and int(value) > 0


def _is_full_order(data: Mapping[str, Any]) -> bool:
    return isinstance(data.get("orderItems"), list) and bool(data.get("createdAt")) and (
        "status" in data)


def _topic_kind(topic: str) -> EventKind:
    if topic in ORDER_TOPICS:
        return EventKind.ORDER
    if topic in MEMBER_TOPICS:
        return EventKind.CUSTOMER
    return EventKind.IGNORED


def _body_kind(data: Mapping[str, Any]) -> EventKind:
    """The kind of a delivery whose topic is unknown, by the fields it carries."""
    keys = set(data)
    if keys & ORDER_KEYS:
        return EventKind.ORDER
    if keys & MEMBER_KEYS:
        return EventKind.CUSTOMER
    status = data.get("status")
    if isinstance(status, str):
        return EventKind.CUSTOMER if status in MEMBER_STATUSES else EventKind.ORDER
    return EventKind.IGNORED


def _bearer(credentials: Mapping[str, str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {credentials.get('access_token', '')}"}


register(IdeaSoftPlatform())
