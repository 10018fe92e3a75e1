"""WooCommerce: REST API v3 (/wp-json/wc/v3/) with a consumer key and secret, and its webhooks.

What WooCommerce documents (woocommerce.github.io/woocommerce-rest-api-docs, "wp-api-v3"), and
what this module makes of it:

- Credentials: a REST API key (WooCommerce > Settings > Advanced > REST API, "Read" is enough)
  for a shop manager or administrator, sent as HTTP Basic auth. That is only allowed over
  HTTPS: over plain HTTP WooCommerce ignores Basic auth and wants OAuth 1.0a one-legged
  signatures, which this connector does not make, so a plain-http store address is refused
  (BLOCKED) before any credential leaves, except where private addresses are allowed (the
  tests' local fake on http://127.0.0.1, local development).
- Errors: a wrong secret answers 401 `woocommerce_rest_authentication_error` ("Consumer secret
  is invalid."); a revoked or unknown key leaves the request anonymous, answered 401
  `woocommerce_rest_cannot_view`. Both are ConnectorError(AUTH) (shops.http).
- test_connection: GET system_status restricted with `_fields` to the store's address (since
  WooCommerce 3.9 `_fields` also spares the server the slow self-checks of that report).
- Orders: GET /orders, ordered by id ascending, 100 a page (the documented maximum), with
  `offset` rather than `page`, and a cursor "<offset>:<last order id seen>". A page count
  would skip an order whenever one before the cursor leaves the list between two requests (an
  order moved to the trash, which `status=any` leaves out); with ids ascending the next request
  starts a few rows early (OVERLAP), drops the ids already seen, and steps further back if
  even the first row is new (more rows left than the overlap). Orders joining the list while
  we page (the poll's modified_after set only grows) push rows later: seen twice, dropped by
  id. The poll adds `modified_after` with `dates_are_gmt=true`: every order modified since,
  whatever its id. X-WP-Total gives the backfill's progress.
- Categories: an order's line items name a product_id (for a variation, the parent product,
  the variation in variation_id) but no category. A page's products are fetched once
  (GET /products?include=...&_fields=id,parent_id,categories, 100 ids a request) and each
  line gets its product's first category. A webhook is read without any request, so its lines
  have no category (an empty category never blanks a known one; the hourly poll fills it in).
- Money (base.line_money): a line is subtotal + subtotal_tax before discounts and total +
  total_tax after, so tax is included as the buyer paid it whether the store enters prices
  with or without tax; shipping_lines and fee_lines are not lines.
- States: pending, on-hold (awaiting a bank transfer or cheque), checkout-draft -> PENDING;
  processing, completed -> PAID; refunded -> PAID with its refunds (which add up to the whole
  order); cancelled, failed, trash -> CANCELLED. A status a plugin added is PAID when the order
  has a payment date (date_paid_gmt), PENDING otherwise.
- Refunds: an order carries a summary of its refunds (id, reason, total as a negative string).
  The summary does not say what a refund was for (a refunded shipping charge counts as
  merchandise there) nor which lines, so such an order is marked `refunds_summarised`: the
  backfill and the poll fetch it with `order()` (one request for each refunded order, few in a
  page), and its webhook is read as the order's id, which the engine fetches the same way.
  `order()` reads /orders/<id>/refunds as well: each refund's amount less its shipping and fee
  lines, and its line items (the order's line id is the refund item's `_refunded_item_id`
  meta) with quantities. Should the fetch find nothing, the summary is applied, never more
  than the purchase.
- Customers: billing email, names and phone; customer_id 0 is a guest. WooCommerce records no
  marketing consent (no documented field; plugins keep their own meta keys, not read here):
  consent is None.
- Dates: the *_gmt fields (UTC, without offset), the site-time ones only when those are null.
- Webhooks: the body is the REST API's JSON for the resource; X-WC-Webhook-Signature is
  base64(HMAC-SHA256(secret, raw body)); X-WC-Webhook-Topic names the topic;
  X-WC-Webhook-Delivery-ID is wp_hash(webhook id . current second), so two deliveries of one
  webhook in the same second share it: the delivery id kept here is that header with the
  signature (a digest of the body) appended, so two different bodies never collapse into one
  delivery and a replayed one still does. order.deleted (moved to the trash) and
  customer.deleted send only {"id": N}: the order one is an ORDER event with `order_id` and no
  order (the connector reads it with `order()`: status trash, or None when deleted for good);
  customer.deleted is ignored (no email in it; erasure goes through privacy). When a webhook is
  created WooCommerce posts a ping, form body `webhook_id=N`, with no topic and no signature
  header (WC_Webhook::deliver_ping): it is accepted unsigned as PING, and only that exact body.
- Webhook timing: deliveries run in the background (Action Scheduler) with a 60 s timeout;
  the creation ping uses WordPress's default 5 s and the webhook is saved with an error if it
  is not answered 200, so 5 s is the figure kept. A 2xx, 301 or 302 answer is a success; after
  more than five consecutive failures (woocommerce_max_webhook_delivery_failures, default 5)
  WooCommerce disables the webhook until a manager re-enables it, and nothing is retried: the
  hourly poll (modified_after) catches up on what was missed.
"""
import base64
import datetime as dt
import hashlib
import hmac
import html
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.utils.translation import gettext_lazy as _

from . import register
from .base import (
    ConnectorError,
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
    StoreAccess,
    WebhookEvent,
    WebhookRefused,
    line_money,
)

if TYPE_CHECKING:
    from ..http import ShopHTTP

API_PATH = "/wp-json/wc/v3"
PER_PAGE = 100  # the REST API's maximum per_page
OVERLAP = 5  # rows re-read before the cursor: orders leaving the list between two pages
PING_TOPIC = "ping"  # WooCommerce's creation ping has no topic header: named here

STATES = {
    "pending": OrderState.PENDING, "on-hold": OrderState.PENDING,
    "checkout-draft": OrderState.PENDING,
    "processing": OrderState.PAID, "completed": OrderState.PAID, "refunded": OrderState.PAID,
    "cancelled": OrderState.CANCELLED, "failed": OrderState.CANCELLED,
    "trash": OrderState.CANCELLED,
}
ORDER_TOPICS = ("order.created", "order.updated", "order.restored")
CUSTOMER_TOPICS = ("customer.created", "customer.updated")
_PING_BODY = re.compile(rb"webhook_id=\d{1,20}")


class WooCommercePlatform(Platform):
    key = "woocommerce"
    label = "WooCommerce"
    credential_fields = (
        CredentialField("consumer_key", _("Consumer key"), secret=False,
                        help_text=_("WooCommerce > Settings > Advanced > REST API: a key with "
                                    "Read access for a shop manager (starts with ck_).")),
        CredentialField("consumer_secret", _("Consumer secret"),
                        help_text=_("Shown once when the key is made (starts with cs_).")),
    )
    webhook_topics = ("order.created", "order.updated", "order.deleted", "order.restored",
                      "customer.created", "customer.updated")
    webhook_timeout = 5.0  # the creation ping: WordPress's default; deliveries wait 60 s
    # The manager pastes a secret into each WooCommerce webhook: the CRM makes one up.
    webhook_secret_generated = True
    page_size = PER_PAGE

    # --- webhooks --------------------------------------------------------------------------

    def delivery_meta(self, headers: Mapping[str, str]) -> DeliveryMeta:
        topic = _header(headers, "X-WC-Webhook-Topic")
        delivery = _header(headers, "X-WC-Webhook-Delivery-ID")
        signature = _header(headers, "X-WC-Webhook-Signature")
        if delivery and signature:  # the header alone repeats within a second (module doc)
            delivery = f"{delivery}:{signature}"[:128]
        return DeliveryMeta(topic=topic or PING_TOPIC, delivery_id=delivery,
                            webhook_id=_header(headers, "X-WC-Webhook-ID"))

    def verify_webhook(self, access: StoreAccess, headers: Mapping[str, str],
                       body: bytes) -> None:
        given = _header(headers, "X-WC-Webhook-Signature")
        if not given:
            if not _header(headers, "X-WC-Webhook-Topic") and _PING_BODY.fullmatch(body):
                return  # the creation ping: unsigned by WooCommerce, and carries nothing
            raise WebhookRefused(401, "no X-WC-Webhook-Signature header")
        if not access.webhook_secret:
            raise WebhookRefused(401, "the store has no webhook secret")
        if not hmac.compare_digest(given.encode(), sign(access.webhook_secret, body).encode()):
            raise WebhookRefused(401, "X-WC-Webhook-Signature does not match the body")

    def read_webhook(self, topic: str, body: bytes) -> WebhookEvent:
        if topic == PING_TOPIC:
            if not _PING_BODY.fullmatch(body.strip()):
                raise WebhookRefused(400, "a ping without its webhook_id=N body")
            return WebhookEvent(kind=EventKind.PING, topic=topic)
        if topic not in (*ORDER_TOPICS, *CUSTOMER_TOPICS, "order.deleted"):
            return WebhookEvent(kind=EventKind.IGNORED, topic=topic)
        data = _json_object(body, topic)
        try:
            if topic == "order.deleted":
                return WebhookEvent(kind=EventKind.ORDER, topic=topic,
                                    order_id=str(_id(data)))
            if topic in ORDER_TOPICS:
                order = order_from_json(data)
                if order.refunds_summarised:  # fetched with its refunds in full
                    return WebhookEvent(kind=EventKind.ORDER, topic=topic,
                                        order_id=order.order_id, occurred_at=order.updated_at)
                return WebhookEvent(kind=EventKind.ORDER, topic=topic, order=order,
                                    order_id=order.order_id, occurred_at=order.updated_at)
            return WebhookEvent(kind=EventKind.CUSTOMER, topic=topic,
                                customer=customer_from_json(data),
                                occurred_at=_date(data, "date_modified"))
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as error:
            raise WebhookRefused(400, f"{topic} body is not a WooCommerce {topic.split('.')[0]}: "
                                      f"{type(error).__name__} {error}") from None

    # --- the API ---------------------------------------------------------------------------

    def test_connection(self, access: StoreAccess, http: "ShopHTTP") -> str:
        body, _headers = self._get(access, http, "/system_status", {
            "_fields": "environment.home_url,environment.site_url,environment.wc_version"})
        environment = body.get("environment") if isinstance(body, dict) else None
        if not isinstance(environment, dict):
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 "system_status did not answer the store's environment")
        return str(environment.get("home_url") or environment.get("site_url")
                   or access.base_url)

    def orders_page(self, access: StoreAccess, http: "ShopHTTP", *, cursor: str | None,
                    updated_since: dt.datetime | None = None) -> OrdersPage:
        offset, last_id = _read_cursor(cursor)
        params: dict[str, Any] = {"per_page": self.page_size, "orderby": "id", "order": "asc",
                                  "dates_are_gmt": "true",
                                  "offset": max(offset - OVERLAP, 0) if last_id else offset}
        if updated_since is not None:
            params["modified_after"] = _gmt_param(updated_since)
        while True:
            body, headers = self._get(access, http, "/orders", params)
            rows = _rows(body, "orders")
            if not rows or not last_id or params["offset"] == 0 or _id(rows[0]) <= last_id:
                break
            # More orders left the list before the cursor than the overlap: step back.
            params["offset"] = max(params["offset"] - self.page_size, 0)
        fresh = [row for row in rows if _id(row) > last_id]
        categories = self._categories(access, http, fresh)
        try:
            orders = tuple(order_from_json(row, categories) for row in fresh)
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as error:
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 f"an order is not in the documented shape: {error}") from None
        total = _int_header(headers, "X-WP-Total")
        end = params["offset"] + len(rows)
        more = end < total if total is not None else len(rows) >= self.page_size
        seen = max([last_id, *(_id(row) for row in rows)])
        return OrdersPage(orders=orders, next_cursor=f"{end}:{seen}" if more and rows else None,
                          total=total)

    def order(self, access: StoreAccess, http: "ShopHTTP", order_id: str) -> OrderData | None:
        """The order with its refunds in full (what each was for, and which lines)."""
        try:
            data, _headers = self._get(access, http, f"/orders/{int(order_id)}", {})
        except ConnectorError as error:
            if error.status == 404:
                return None
            raise
        if not isinstance(data, dict):
            raise ConnectorError(ConnectorError.BAD_ANSWER, f"order {order_id} is not an object")
        refunds = self.refunds(access, http, order_id) if data.get("refunds") else None
        try:
            return order_from_json(data, self._categories(access, http, [data]),
                                   refunds=refunds)
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as error:
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 f"order {order_id} is not in the documented shape: {error}"
                                 ) from None

    def refunds(self, access: StoreAccess, http: "ShopHTTP",
                order_id: str) -> tuple[RefundData, ...]:
        """An order's refunds from /orders/<id>/refunds: merchandise amounts and lines."""
        body, _headers = self._get(access, http, f"/orders/{int(order_id)}/refunds",
                                   {"per_page": PER_PAGE})
        try:
            return tuple(refund_from_json(row) for row in _rows(body, "refunds"))
        except (KeyError, TypeError, ValueError, InvalidOperation, AttributeError) as error:
            raise ConnectorError(ConnectorError.BAD_ANSWER,
                                 f"a refund is not in the documented shape: {error}") from None

    def _categories(self, access: StoreAccess, http: "ShopHTTP",
                    orders: Iterable[Mapping[str, Any]]) -> dict[int, str]:
        """{product id: first category name} for the products these orders' lines name."""
        wanted = sorted({int(line.get("product_id") or 0) for order in orders
                         for line in order.get("line_items") or []} - {0})
        products: dict[int, Mapping[str, Any]] = {}
        for start in range(0, len(wanted), PER_PAGE):
            chunk = wanted[start:start + PER_PAGE]
            body, _headers = self._get(access, http, "/products", {
                "include": ",".join(map(str, chunk)), "per_page": PER_PAGE,
                "_fields": "id,parent_id,categories"})
            products.update({_id(row): row for row in _rows(body, "products")})
        return {product_id: _first_category(product, products)
                for product_id, product in products.items()}

    def _get(self, access: StoreAccess, http: "ShopHTTP", path: str,
             params: Mapping[str, Any]) -> tuple[Any, Mapping[str, str]]:
        if urlsplit(access.base_url).scheme != "https" and not http.allow_private:
            raise ConnectorError(
                ConnectorError.BLOCKED,
                f"{access.base_url} is not https: WooCommerce only takes API keys over HTTPS "
                "(plain HTTP needs OAuth 1.0a signatures)")
        auth = (access.credentials.get("consumer_key", ""),
                access.credentials.get("consumer_secret", ""))
        return http.get_json(f"{access.base_url}{API_PATH}{path}", params=params, auth=auth)


def sign(secret: str, body: bytes) -> str:
    """X-WC-Webhook-Signature: base64 of the HMAC-SHA256 of the raw body (WC_Webhook)."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


# --- reading WooCommerce's JSON ----------------------------------------------------------------

def order_from_json(data: Mapping[str, Any], categories: Mapping[int, str] | None = None, *,
                    refunds: tuple[RefundData, ...] | None = None) -> OrderData:
    """An order as the REST API (and its webhooks) give it. KeyError, TypeError, ValueError
    when it is not that shape."""
    currency = str(data["currency"]).upper()
    created = _date(data, "date_created")
    if created is None:
        raise ValueError("the order has no date_created")
    coupons = data.get("coupon_lines") or []
    return OrderData(
        order_id=str(_id(data)), number=f"#{data.get('number') or _id(data)}",
        created_at=created, updated_at=_date(data, "date_modified") or created,
        state=_state(data), currency=currency,
        lines=tuple(_line(line, currency, categories or {}) for line in data["line_items"]),
        customer=_order_customer(data),
        code=str(coupons[0].get("code") or "") if coupons else "",
        channel_label=str(data.get("created_via") or ""),
        refunds=refunds if refunds is not None else tuple(
            RefundData(refund_id=str(_id(refund)), amount=abs(_money(refund.get("total"))))
            for refund in data.get("refunds") or []),
        refunds_summarised=refunds is None and bool(data.get("refunds")),
    )


def customer_from_json(data: Mapping[str, Any]) -> CustomerData:
    """A customer (customers endpoint, customer.* webhooks)."""
    billing = data.get("billing") or {}
    return CustomerData(
        email=str(data.get("email") or billing.get("email") or "").strip(),
        customer_id=str(_id(data)),
        first_name=str(data.get("first_name") or billing.get("first_name") or ""),
        last_name=str(data.get("last_name") or billing.get("last_name") or ""),
        phone=str(billing.get("phone") or ""), consent=None)


def refund_from_json(data: Mapping[str, Any]) -> RefundData:
    """A refund from /orders/<id>/refunds: the amount less refunded shipping and fees."""
    amount = abs(_money(data.get("amount")))
    for key in ("shipping_lines", "fee_lines"):
        for line in data.get(key) or []:
            amount -= abs(_money(line.get("total")) + _money(line.get("total_tax")))
    lines = []
    for item in data.get("line_items") or []:
        quantity = abs(Decimal(str(item.get("quantity") or 0)))
        original = _meta(item, "_refunded_item_id")
        if quantity and original:
            lines.append((original, quantity))
    return RefundData(refund_id=str(_id(data)), amount=max(amount, Decimal(0)),
                      refunded_at=_date(data, "date_created"), lines=tuple(lines))


def _order_customer(data: Mapping[str, Any]) -> CustomerData:
    billing = data.get("billing") or {}
    customer_id = int(data.get("customer_id") or 0)
    return CustomerData(
        email=str(billing.get("email") or "").strip(),
        customer_id=str(customer_id) if customer_id else "",
        first_name=str(billing.get("first_name") or ""),
        last_name=str(billing.get("last_name") or ""),
        phone=str(billing.get("phone") or ""), consent=None)


def _line(line: Mapping[str, Any], currency: str, categories: Mapping[int, str]) -> LineData:
    quantity = Decimal(str(line["quantity"]))
    unit_price, discount = line_money(
        quantity=quantity, currency=currency,
        before_discount=_money(line.get("subtotal")) + _money(line.get("subtotal_tax")),
        after_discount=_money(line.get("total")) + _money(line.get("total_tax")))
    product_id = int(line.get("product_id") or 0)
    variation_id = int(line.get("variation_id") or 0)
    sku = str(line.get("sku") or "").strip() or str(variation_id or product_id or "")
    return LineData(line_id=str(_id(line)), sku=sku,
                    name=html.unescape(str(line.get("name") or "")).strip(),
                    category=categories.get(product_id, ""), quantity=quantity,
                    unit_price=unit_price, discount=discount)


def _state(data: Mapping[str, Any]) -> OrderState:
    status = str(data["status"])
    if status in STATES:
        return STATES[status]
    return OrderState.PAID if data.get("date_paid_gmt") or data.get("date_paid") else (
        OrderState.PENDING)


def _first_category(product: Mapping[str, Any],
                    products: Mapping[int, Mapping[str, Any]]) -> str:
    found = product.get("categories") or []
    parent = products.get(int(product.get("parent_id") or 0))
    if not found and parent is not None:  # a variation: its parent's categories
        found = parent.get("categories") or []
    return html.unescape(str(found[0].get("name") or "")).strip() if found else ""


def _meta(item: Mapping[str, Any], key: str) -> str:
    for meta in item.get("meta_data") or []:
        if isinstance(meta, Mapping) and meta.get("key") == key:
            return str(meta.get("value") or "")
    return ""


def _id(data: Mapping[str, Any]) -> int:
    value = data["id"]
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"id {value!r} is not a number")
    return int(value)


def _money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise TypeError(f"{value!r} is not an amount")
    return Decimal(str(value))


def _date(data: Mapping[str, Any], name: str) -> dt.datetime | None:
    """`<name>_gmt` as UTC; the site-time `<name>` (offset unknown, taken as UTC) when the GMT
    one is null."""
    text = data.get(f"{name}_gmt") or data.get(name)
    if not text:
        return None
    moment = dt.datetime.fromisoformat(str(text))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _gmt_param(moment: dt.datetime) -> str:
    """An aware time as the API's dates_are_gmt=true filters take it: UTC, no offset."""
    if moment.tzinfo is None:
        raise ValueError("updated_since must be aware")
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def _read_cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    offset, _sep, last_id = cursor.partition(":")
    try:
        return max(int(offset), 0), max(int(last_id or 0), 0)
    except ValueError:
        raise ConnectorError(ConnectorError.BAD_ANSWER,
                             f"not a WooCommerce cursor: {cursor!r}") from None


def _rows(body: Any, what: str) -> list[Mapping[str, Any]]:
    if not isinstance(body, list) or not all(isinstance(row, dict) and "id" in row
                                             for row in body):
        raise ConnectorError(ConnectorError.BAD_ANSWER,
                             f"the {what} list is not a JSON array of {what}")
    return body


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    try:
        return int(_header(headers, name))
    except ValueError:
        return None


def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((found for key, found in headers.items() if key.lower() == lowered), "")
    return str(value).strip()


def _json_object(body: bytes, topic: str) -> Mapping[str, Any]:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookRefused(400, f"{topic} body is not JSON: {error}") from None
    if not isinstance(data, dict) or "id" not in data:
        raise WebhookRefused(400, f"{topic} body is not a JSON object with an id")
    return data


register(WooCommercePlatform())
