"""Shopify: a store connected through a custom app's Admin API access token.

Set-up (docs/integrations-shops.md): in the Shopify admin, Settings > Apps and sales channels >
Develop apps, create an app with the Admin API scopes `read_orders` (and `read_all_orders` for
orders older than 60 days: without it the backfill sees only the last 60 days), `read_products`
and `read_customers`; install it and copy the **Admin API access token** (`shpat_...`, shown
once) and the app's **API secret key** (client secret) into the store's form. The store address
is the shop's own `https://<name>.myshopify.com`.

API: the REST Admin API, version `API_VERSION` in the path (`/admin/api/2025-07/...`), the
token in `X-Shopify-Access-Token`. Why REST and not GraphQL (Shopify's recommended API; REST is
"legacy" since 2024-10 but served to custom apps, version by version): a webhook's body *is* the
REST resource (orders/create sends the REST order, refunds/create the REST refund), so one
reader (`order_from_rest`) serves the webhooks, the backfill and the poll, and the fake API and
the recorded payloads are the same shapes. A GraphQL reader would be a second mapping of the same
order to keep equal to the first. REST rate limits (a leaky bucket of 40 calls, 2 per second
refilled) answer 429 with Retry-After, which shops.http waits out.
- Orders: `GET orders.json?status=any&limit=250` (status=any: the default lists only open
  orders), oldest first (`since_id=0`: with since_id Shopify sorts by id, and ids grow with
  time), then the Link header's `rel="next"` URL, whose `page_info` is the stored cursor (with
  page_info only `limit` may be sent again: the filters are inside the token). The poll asks
  `updated_at_min` instead of since_id (in whatever order Shopify lists them).
  The first backfill page also asks `orders/count.json?status=any` for the progress bar.
- Categories: a line item has no product type; each page's products are fetched once
  (`products.json?ids=...&fields=id,product_type`) and `product_type` is the line's category.
  A webhook's order has no category (its reader makes no API call): "" is "not known".
- `test_connection`: `GET shop.json`, the shop's name.
- Bumping the API version: Shopify supports a version for 12 months (a new one each quarter,
  "2025-07", "2025-10"...). Change `API_VERSION`, read that version's changelog for the
  REST order, refund and customer fields used here, re-record a payload if one changed, run
  shops/tests/test_shopify.py. The webhooks' version is set in the app's settings: keep it
  the same.

Orders (docs/integrations-shops.md, the money rule in shops.platforms.base):
- state: `cancelled_at` set, or financial_status voided or expired: CANCELLED; paid,
  partially_paid, partially_refunded, refunded: PAID (the refunds take their part back);
  pending, authorized and anything else: PENDING.
- date: `processed_at` (the date the shop shows and reports; an imported order keeps its
  original date there), else `created_at`.
- a line: `price` per unit and `quantity` (the ordered quantity: refunds take theirs back),
  its discount the sum of its `discount_allocations` (every discount applied to it, the order's
  codes included), else `total_discount`. When `taxes_included` is false the shop adds tax on
  top: the line's `tax_lines` are added to what the buyer paid, and the unit price and the
  discount are grossed up at the same rate, so both read as in a tax-included shop. Gift card
  lines, shipping lines, tips and duties are not lines. SKU: `sku`, else the product id.
- customer: `email`, else `contact_email`, else the customer's email; names and phone from
  the customer, else the billing address; a guest (no `customer`) has customer_id "".
  Language from `customer_locale` ("tr-TR": "tr").
- code: the first of `discount_codes`; channel label: `source_name` (web, pos,
  shopify_draft_order, or a sales channel app's id).
- refunds: `refunds[]`, each with its `refund_line_items` (line_item_id, quantity) and a
  merchandise amount: the lines' `subtotal` (after discounts) plus their `total_tax` when the
  order's taxes are added on top (in a tax-included shop the subtotal has the tax already).
  A refund of shipping alone (no refund lines) refunds nothing of the purchase, whose amount has
  no shipping: it is left out. See `refund_from_rest` for the refunds/create webhook, which
  does not say whether taxes were included.

Consent: `email_marketing_consent.state` (customer resource; since API 2025-01 the customer
webhooks leave it out and `customers/email_marketing_consent/update` carries it):
`subscribed` is consent given; `unsubscribed` withdrawn; `redacted` (the customer's data was
erased in the shop) withdrawn too, so the CRM never mails on for a person the shop erased;
`not_subscribed` (never subscribed), `pending` (a double opt-in not confirmed yet) and `invalid`
(the address is not deliverable: a statement about the address, not the person's wish) say
nothing: None, so a consent given in the CRM's own forms is not overwritten by a shop that
merely never asked. The evidence keeps the state and the opt-in level. A consent update
without `email_address` (a customer the shop knew by phone) is completed by `customer()`
(GET customers/<id>.json, scope read_customers): its email, the update's consent.

Webhooks: Shopify POSTs the REST resource as JSON, signed in `X-Shopify-Hmac-Sha256` =
base64(HMAC-SHA256(key, raw body)); the key is the app's API secret key (client secret), or,
for webhooks created in the admin's Settings > Notifications > Webhooks, the key shown on that
page: the store's webhook secret when set, else the `api_secret_key` credential. The topic is in
`X-Shopify-Topic`, the delivery's id in `X-Shopify-Webhook-Id` (the same on every retry of a
delivery), the event's in `X-Shopify-Event-Id` (shared by the topics of one event), the time in
`X-Shopify-Triggered-At`. Shopify waits 1 s to connect and 5 s in all for a 2xx answer, then
retries 8 times over the next 4 hours and, for subscriptions made through the API, deletes the
subscription after 8 failures in a row (the hourly poll catches what was missed). Invalid HMAC
on the mandatory privacy topics must answer 401 (the door's refusal).
"""
import base64
import datetime as dt
import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

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
    StoreAccess,
    WebhookEvent,
    WebhookRefused,
    line_money,
)

if TYPE_CHECKING:
    from ..http import ShopHTTP

# The Admin API version every call is pinned to (see the module's doc to bump it).
API_VERSION = "2025-07"
PAGE_SIZE = 250  # REST's most per page

ORDER_TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "orders/paid")
CUSTOMER_TOPICS = ("customers/create", "customers/update")
CONSENT_TOPIC = "customers/email_marketing_consent/update"
PRIVACY_TOPICS = {"customers/data_request": EventKind.CUSTOMER_DATA_REQUEST,
                  "customers/redact": EventKind.CUSTOMER_REDACT,
                  "shop/redact": EventKind.SHOP_REDACT}

PAID = {"paid", "partially_paid", "partially_refunded", "refunded"}
CANCELLED = {"voided", "expired"}
# email_marketing_consent.state -> given (True), withdrawn (False); other states say nothing.
CONSENT_STATES = {"subscribed": True, "unsubscribed": False, "redacted": False}

_LINK = re.compile(r'<([^>]+)>\s*;\s*rel="?(\w+)"?')


class ShopifyPlatform(Platform):
    key = "shopify"
    label = "Shopify"
    credential_fields = (
        CredentialField("access_token", _("Admin API access token"),
                        help_text=_("From the store's custom app (Settings > Apps and sales "
                                    "channels > Develop apps > API credentials); it starts "
                                    "with shpat_.")),
        CredentialField("api_secret_key", _("API secret key"), required=False,
                        help_text=_("The same app's API secret key (client secret): "
                                    "Shopify signs the app's webhooks with it.")),
    )
    webhook_topics = (*ORDER_TOPICS, "refunds/create", *CUSTOMER_TOPICS, CONSENT_TOPIC,
                      *PRIVACY_TOPICS)
    webhook_timeout = 5.0
    page_size = PAGE_SIZE

    # --- webhooks ----------------------------------------------------------------------

    def delivery_meta(self, headers: Mapping[str, str]) -> DeliveryMeta:
        topic = _header(headers, "X-Shopify-Topic")
        delivery_id = _header(headers, "X-Shopify-Webhook-Id")
        if not delivery_id and _header(headers, "X-Shopify-Event-Id"):
            # One event is delivered once per topic with the same event id.
            delivery_id = f"{topic}:{_header(headers, 'X-Shopify-Event-Id')}"
        return DeliveryMeta(topic=topic, delivery_id=delivery_id)

    def verify_webhook(self, access: StoreAccess, headers: Mapping[str, str],
                       body: bytes) -> None:
        given = _header(headers, "X-Shopify-Hmac-Sha256")
        secret = access.webhook_secret or access.credentials.get("api_secret_key", "")
        if not given:
            raise WebhookRefused(401, "no X-Shopify-Hmac-Sha256 header")
        if not secret:
            raise WebhookRefused(401, "no API secret key set for this store")
        if not hmac.compare_digest(given.strip().encode(), sign(secret, body).encode()):
            raise WebhookRefused(401, "X-Shopify-Hmac-Sha256 does not match the body")

    def read_webhook(self, topic: str, body: bytes) -> WebhookEvent:
        kinds = {**dict.fromkeys(ORDER_TOPICS, EventKind.ORDER), "refunds/create":
                 EventKind.REFUND, **dict.fromkeys((*CUSTOMER_TOPICS, CONSENT_TOPIC),
                                                   EventKind.CUSTOMER), **PRIVACY_TOPICS}
        kind = kinds.get(topic, EventKind.IGNORED)
        if kind == EventKind.IGNORED:
            return WebhookEvent(kind=kind, topic=topic)
        try:
            data = json.loads(body)
            if not isinstance(data, dict):
                raise TypeError("the body is not a JSON object")
            return self._event(kind, topic, data)
        except (ValueError, KeyError, TypeError, AttributeError, InvalidOperation) as error:
            raise WebhookRefused(400, f"malformed {topic} body: {error}") from None

    def _event(self, kind: EventKind, topic: str, data: dict[str, Any]) -> WebhookEvent:
        if kind == EventKind.ORDER:
            order = order_from_rest(data)
            return WebhookEvent(kind=kind, topic=topic, order=order,
                                occurred_at=order.updated_at)
        if kind == EventKind.REFUND:
            refund = refund_from_rest(data)
            if refund is None:  # shipping alone: nothing of the purchase comes back
                return WebhookEvent(kind=EventKind.IGNORED, topic=topic,
                                    order_id=_id(data["order_id"]))
            return WebhookEvent(kind=kind, topic=topic, order_id=_id(data["order_id"]),
                                refund=refund, occurred_at=refund.refunded_at)
        if topic == CONSENT_TOPIC:
            customer = consent_update_from_rest(data)
            return WebhookEvent(kind=kind, topic=topic, customer=customer,
                                occurred_at=customer.consent.occurred_at
                                if customer.consent else None)
        if kind == EventKind.CUSTOMER:
            return WebhookEvent(kind=kind, topic=topic, customer=customer_from_rest(data),
                                occurred_at=_time(data.get("updated_at")))
        if kind == EventKind.SHOP_REDACT:
            _id(data["shop_id"])
            return WebhookEvent(kind=kind, topic=topic)
        person = data["customer"]
        emails = tuple(email for email in [_text(person.get("email"))] if email)
        return WebhookEvent(kind=kind, topic=topic, emails=emails)

    # --- the Admin API -----------------------------------------------------------------

    def test_connection(self, access: StoreAccess, http: "ShopHTTP") -> str:
        body, _headers = self._get(access, http, "shop.json")
        try:
            shop = body["shop"]
            return str(shop.get("name") or shop.get("myshopify_domain") or access.base_url)
        except (KeyError, TypeError, AttributeError):
            raise _bad_answer("shop.json", body) from None

    def orders_page(self, access: StoreAccess, http: "ShopHTTP", *, cursor: str | None,
                    updated_since: dt.datetime | None = None) -> OrdersPage:
        params: dict[str, Any] = {"limit": self.page_size}
        if cursor:
            params["page_info"] = cursor  # the filters travel inside it
        else:
            params["status"] = "any"
            if updated_since is None:
                params["since_id"] = 0  # sorted by id (changelog 2017-09-18): oldest first
            else:  # any order will do; since_id with date filters is slow on big shops
                params["updated_at_min"] = updated_since.isoformat()
        body, headers = self._get(access, http, "orders.json", params)
        try:
            raw_orders = body["orders"]
            if not isinstance(raw_orders, list):
                raise TypeError("orders is not a list")
            categories = self._categories(access, http, raw_orders)
            orders = tuple(order_from_rest(order, categories) for order in raw_orders)
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
            raise _bad_answer("orders.json", body) from None
        total = None
        if cursor is None and updated_since is None:
            total = self._count(access, http)
        return OrdersPage(orders=orders, next_cursor=next_page_info(headers), total=total)

    def order(self, access: StoreAccess, http: "ShopHTTP", order_id: str) -> OrderData | None:
        body = self._get_resource(access, http, "orders", order_id)
        if body is None:
            return None
        try:
            raw = body["order"]
            return order_from_rest(raw, self._categories(access, http, [raw]))
        except (KeyError, TypeError, ValueError, AttributeError, InvalidOperation):
            raise _bad_answer("order", body) from None

    def customer(self, access: StoreAccess, http: "ShopHTTP",
                 customer_id: str) -> CustomerData | None:
        """The customer by id (None: not found; scope read_customers): a consent update may
        arrive without the email address (a customer known by phone only at the time)."""
        body = self._get_resource(access, http, "customers", customer_id)
        if body is None:
            return None
        try:
            return customer_from_rest(body["customer"])
        except (KeyError, TypeError, ValueError, AttributeError):
            raise _bad_answer("customer", body) from None

    def _get_resource(self, access: StoreAccess, http: "ShopHTTP", kind: str,
                      resource_id: str) -> Any:
        """GET <kind>/<id>.json; None when the id is not a number or Shopify answers 404."""
        try:
            body, _headers = self._get(access, http, f"{kind}/{int(resource_id)}.json")
        except ValueError:
            return None
        except ConnectorError as error:
            if error.status == 404:
                return None
            raise
        return body

    def _count(self, access: StoreAccess, http: "ShopHTTP") -> int | None:
        body, _headers = self._get(access, http, "orders/count.json", {"status": "any"})
        count = body.get("count") if isinstance(body, dict) else None
        return count if isinstance(count, int) else None

    def _categories(self, access: StoreAccess, http: "ShopHTTP",
                    orders: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """{product id: product_type} for the products in these orders, in one call."""
        ids = sorted({_id(line["product_id"]) for order in orders
                      for line in order.get("line_items") or [] if line.get("product_id")})
        categories: dict[str, str] = {}
        for start in range(0, len(ids), PAGE_SIZE):
            chunk = ids[start:start + PAGE_SIZE]
            body, _headers = self._get(access, http, "products.json", {
                "ids": ",".join(chunk), "fields": "id,product_type", "limit": PAGE_SIZE})
            for product in body.get("products") or []:
                categories[_id(product["id"])] = _text(product.get("product_type"))
        return categories

    def _get(self, access: StoreAccess, http: "ShopHTTP", path: str,
             params: Mapping[str, Any] | None = None) -> tuple[Any, Mapping[str, str]]:
        return http.get_json(admin_url(access, path), params=params, headers={
            "X-Shopify-Access-Token": access.credentials.get("access_token", "")})


register(ShopifyPlatform())


# --- reading Shopify's REST resources (webhook bodies and API answers alike) -------------

def admin_url(access: StoreAccess, path: str) -> str:
    return f"{access.base_url}/admin/api/{API_VERSION}/{path}"


def sign(secret: str, body: bytes) -> str:
    """What Shopify puts in X-Shopify-Hmac-Sha256 for this body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def next_page_info(headers: Mapping[str, str]) -> str | None:
    """The page_info of the Link header's rel="next" URL; None on the last page."""
    link = _header(headers, "Link")
    for url, rel in _LINK.findall(link):
        if rel == "next":
            values = parse_qs(urlsplit(url).query).get("page_info")
            return values[0] if values else None
    return None


def order_from_rest(data: Mapping[str, Any],
                    categories: Mapping[str, str] | None = None) -> OrderData:
    """A REST order (the orders/* webhooks' body, an element of orders.json)."""
    categories = categories or {}
    currency = _text(data["currency"]).upper()
    taxes_included = bool(data.get("taxes_included"))
    lines = tuple(_line(line, currency, taxes_included, categories)
                  for line in data.get("line_items") or [] if not line.get("gift_card"))
    refunds = tuple(refund for refund in (
        refund_from_rest(raw, taxes_included=taxes_included)
        for raw in data.get("refunds") or []) if refund is not None)
    codes = data.get("discount_codes") or []
    created_at = _time(data.get("processed_at")) or _time(data["created_at"])
    if created_at is None:
        raise ValueError("the order has no created_at")
    return OrderData(
        order_id=_id(data["id"]), number=_text(data.get("name")) or _text(data.get("number")),
        created_at=created_at, updated_at=_time(data.get("updated_at")) or created_at,
        state=_state(data), currency=currency, lines=lines, customer=_buyer(data),
        code=_text(codes[0].get("code")) if codes else "",
        channel_label=_text(data.get("source_name")), refunds=refunds)


def _state(data: Mapping[str, Any]) -> OrderState:
    status = _text(data.get("financial_status")).lower()
    if data.get("cancelled_at") or status in CANCELLED:
        return OrderState.CANCELLED
    return OrderState.PAID if status in PAID else OrderState.PENDING


def _line(data: Mapping[str, Any], currency: str, taxes_included: bool,
          categories: Mapping[str, str]) -> LineData:
    quantity = _money(data["quantity"])
    listed = _money(data["price"]) * quantity
    allocations = data.get("discount_allocations") or []
    discount = (sum((_money(item["amount"]) for item in allocations), Decimal(0))
                if allocations else _money(data.get("total_discount")))
    paid = listed - discount
    if not taxes_included and paid > 0:
        tax = sum((_money(item.get("price")) for item in data.get("tax_lines") or []),
                  Decimal(0))
        rate = tax / paid
        listed, paid = listed * (1 + rate), paid + tax
    unit_price, line_discount = line_money(quantity=quantity, before_discount=listed,
                                           after_discount=max(paid, Decimal(0)),
                                           currency=currency)
    product_id = _id(data["product_id"]) if data.get("product_id") else ""
    return LineData(line_id=_id(data["id"]), sku=_text(data.get("sku")) or product_id,
                    name=_text(data.get("name")) or _text(data.get("title")),
                    category=categories.get(product_id, ""), quantity=quantity,
                    unit_price=unit_price, discount=line_discount)


def refund_from_rest(data: Mapping[str, Any], *,
                     taxes_included: bool | None = None) -> RefundData | None:
    """A REST refund (an element of an order's refunds, or the refunds/create body); None when
    it gives back no merchandise (shipping, duties or an adjustment alone).

    The amount is the refunded lines' subtotals, plus their taxes when the order adds tax on
    top. The refunds/create body does not say which (`taxes_included` is the order's): there
    the money that went back decides: the refund's successful refund transactions, less the
    shipping refunded, are compared with the subtotals with and without the taxes, and the
    nearer is taken; a refund with no money back (restock only) is taken without the taxes
    (Turkish shops list prices with KDV included)."""
    lines = tuple((_id(item["line_item_id"]), _money(item["quantity"]))
                  for item in data.get("refund_line_items") or [])
    if not lines:
        return None
    items = data.get("refund_line_items") or []
    subtotal = sum((_shop_money(item, "subtotal") for item in items), Decimal(0))
    tax = sum((_shop_money(item, "total_tax") for item in items), Decimal(0))
    if taxes_included is None:
        returned = _returned_for_merchandise(data)
        taxes_included = returned is None or abs(returned - subtotal) <= abs(
            returned - subtotal - tax)
    amount = subtotal if taxes_included else subtotal + tax
    return RefundData(refund_id=_id(data["id"]), amount=max(amount, Decimal(0)),
                      refunded_at=_time(data.get("processed_at")) or _time(
                          data.get("created_at")), lines=lines)


def _returned_for_merchandise(data: Mapping[str, Any]) -> Decimal | None:
    """The refund's money back less its shipping, None when no money went back."""
    returned = sum((_money(item.get("amount")) for item in data.get("transactions") or []
                    if item.get("kind") == "refund" and item.get("status") == "success"),
                   Decimal(0))
    if not returned:
        return None
    shipping_lines = data.get("refund_shipping_lines") or []
    if shipping_lines:
        for line in shipping_lines:
            returned -= _set_amount(line.get("subtotal_amount_set"))
            returned -= _set_amount(line.get("tax_amount_set"))
    else:  # older versions: shipping refunds are order adjustments (negative amounts)
        for adjustment in data.get("order_adjustments") or []:
            if adjustment.get("kind") == "shipping_refund":
                returned += _money(adjustment.get("amount")) + _money(
                    adjustment.get("tax_amount"))
    return returned


def _buyer(data: Mapping[str, Any]) -> CustomerData:
    customer = data.get("customer") or {}
    billing = data.get("billing_address") or {}
    email = (_text(data.get("email")) or _text(data.get("contact_email"))
             or _text(customer.get("email")))
    return CustomerData(
        email=email, customer_id=_id(customer["id"]) if customer.get("id") else "",
        first_name=_text(customer.get("first_name")) or _text(billing.get("first_name")),
        last_name=_text(customer.get("last_name")) or _text(billing.get("last_name")),
        phone=(_text(customer.get("phone")) or _text(data.get("phone"))
               or _text(billing.get("phone"))),
        language=_language(data.get("customer_locale")),
        consent=_consent(customer) if customer else None)


def customer_from_rest(data: Mapping[str, Any]) -> CustomerData:
    """A REST customer (customers/create, customers/update)."""
    address = data.get("default_address") or {}
    return CustomerData(
        email=_text(data.get("email")), customer_id=_id(data["id"]),
        first_name=_text(data.get("first_name")), last_name=_text(data.get("last_name")),
        phone=_text(data.get("phone")) or _text(address.get("phone")),
        language=_language(data.get("locale")), consent=_consent(data))


def consent_update_from_rest(data: Mapping[str, Any]) -> CustomerData:
    """The customers/email_marketing_consent/update body: customer_id, email_address and
    email_marketing_consent (no names)."""
    return CustomerData(email=_text(data.get("email_address")),
                        customer_id=_id(data["customer_id"]),
                        consent=_consent({"id": data["customer_id"],
                                          "email_marketing_consent":
                                              data["email_marketing_consent"]}))


def _consent(customer: Mapping[str, Any]) -> ConsentData | None:
    consent = customer.get("email_marketing_consent")
    if not isinstance(consent, Mapping):
        return None
    state = _text(consent.get("state")).lower()
    if state not in CONSENT_STATES:
        return None
    level = _text(consent.get("opt_in_level"))
    evidence = (f"Shopify customer {_id(customer.get('id') or '?')}: "
                f"email_marketing_consent={state}" + (f" ({level})" if level else ""))
    return ConsentData(given=CONSENT_STATES[state],
                       occurred_at=_time(consent.get("consent_updated_at")),
                       evidence=evidence[:200])


# --- small readers ---------------------------------------------------------------------

def _header(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if value is None:
        lowered = name.lower()
        value = next((v for k, v in headers.items() if k.lower() == lowered), "")
    return str(value or "").strip()


def _id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value == "":
        raise TypeError(f"{value!r} is not an id")
    return str(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _money(value: Any) -> Decimal:
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(str(value))


def _set_amount(value: Any) -> Decimal:
    """The shop-currency amount of a Shopify MoneyBag ({"shop_money": {"amount": ...}})."""
    if isinstance(value, Mapping):
        return _money((value.get("shop_money") or {}).get("amount"))
    return Decimal(0)


def _shop_money(item: Mapping[str, Any], field: str) -> Decimal:
    money_set = item.get(f"{field}_set")
    if isinstance(money_set, Mapping) and money_set.get("shop_money"):
        return _set_amount(money_set)
    return _money(item.get(field))


def _time(value: Any) -> dt.datetime | None:
    if not value:
        return None
    moment = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _language(value: Any) -> str:
    return _text(value).split("-")[0].lower()


def _bad_answer(what: str, body: Any) -> ConnectorError:
    snippet = " ".join(json.dumps(body, default=str)[:200].split())
    return ConnectorError(ConnectorError.BAD_ANSWER,
                          f"Shopify's {what} is not the documented shape: {snippet}")
