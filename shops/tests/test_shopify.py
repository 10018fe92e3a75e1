"""Shopify (shops.platforms.shopify) against its recorded payloads and a local fake Admin API."""
import datetime as dt
import json
from decimal import Decimal

import pytest

from shops.http import ShopHTTP
from shops.platforms import platform_for
from shops.platforms.base import (
    ConnectorError,
    EventKind,
    OrderState,
    StoreAccess,
    WebhookRefused,
)
from shops.platforms.shopify import (
    API_VERSION,
    ShopifyPlatform,
    next_page_info,
    order_from_rest,
    refund_from_rest,
    sign,
)
from shops.tests.fakes.shopify import INVALID_TOKEN, FakeShopify, payload

SECRET = "shpss_0123456789abcdef"
D = Decimal
TR = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture
def shopify():
    return platform_for("shopify")


@pytest.fixture
def api():
    with FakeShopify() as fake:
        yield fake


def access(api=None, *, token="shpat_good", webhook_secret="", api_secret_key=SECRET):
    return StoreAccess(key="anadolu", base_url=api.base_url if api else "https://x.myshopify.com",
                       credentials={"access_token": token, "api_secret_key": api_secret_key},
                       webhook_secret=webhook_secret)


def client(**options):
    waits = []
    http = ShopHTTP(sleep=waits.append, timeout=options.pop("timeout", 5), **options)
    http.waits = waits
    return http


def raw(name):
    return json.dumps(payload(name), ensure_ascii=False).encode()


def headers_for(body, topic="orders/create", secret=SECRET, **extra):
    return {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign(secret, body),
            "X-Shopify-Shop-Domain": "anadolu-lezzetleri.myshopify.com",
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
            "X-Shopify-Event-Id": "98880550-7158-44d4-b7cd-2c97c8a091b5",
            "X-Shopify-Triggered-At": "2026-11-02T07:04:12.123Z", **extra}


# --- the platform is registered ---------------------------------------------------------

def test_registered_with_its_topics_and_fields(shopify):
    assert isinstance(shopify, ShopifyPlatform)
    assert shopify.label == "Shopify"
    assert [field.name for field in shopify.credential_fields] == ["access_token",
                                                                   "api_secret_key"]
    assert {"orders/create", "orders/updated", "orders/cancelled", "orders/paid",
            "refunds/create", "customers/create", "customers/update",
            "customers/email_marketing_consent/update", "customers/data_request",
            "customers/redact", "shop/redact"} == set(shopify.webhook_topics)
    assert shopify.webhook_timeout == 5.0


# --- signatures -------------------------------------------------------------------------

def test_a_good_signature_passes(shopify):
    body = raw("order_tax_included")
    shopify.verify_webhook(access(), headers_for(body), body)


def test_header_names_are_case_insensitive(shopify):
    body = raw("order_tax_included")
    headers = {key.lower(): value for key, value in headers_for(body).items()}
    shopify.verify_webhook(access(), headers, body)
    assert shopify.delivery_meta(headers).topic == "orders/create"


def test_the_stores_webhook_secret_is_used_when_set(shopify):
    body = raw("order_tax_included")
    admin_key = "admin-notifications-key"
    shopify.verify_webhook(access(webhook_secret=admin_key),
                           headers_for(body, secret=admin_key), body)
    with pytest.raises(WebhookRefused):
        shopify.verify_webhook(access(webhook_secret=admin_key), headers_for(body), body)


@pytest.mark.parametrize("case", ["bad", "missing", "tampered", "wrong secret", "no secret"])
def test_bad_signatures_are_refused_with_401(shopify, case):
    body = raw("order_tax_included")
    headers = headers_for(body)
    store = access()
    if case == "bad":
        headers["X-Shopify-Hmac-Sha256"] = "bm90IGEgc2lnbmF0dXJl"
    elif case == "missing":
        del headers["X-Shopify-Hmac-Sha256"]
    elif case == "tampered":
        body = body.replace(b'"150.00"', b'"1.50"')
    elif case == "wrong secret":
        headers = headers_for(body, secret="shpss_someone_else")
    else:
        store = access(api_secret_key="")
    with pytest.raises(WebhookRefused) as caught:
        shopify.verify_webhook(store, headers, body)
    assert caught.value.status == 401


def test_delivery_meta_reads_topic_and_webhook_id(shopify):
    meta = shopify.delivery_meta(headers_for(b"{}", topic="refunds/create"))
    assert meta.topic == "refunds/create"
    assert meta.delivery_id == "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"


def test_delivery_meta_falls_back_to_the_event_id_per_topic(shopify):
    headers = headers_for(b"{}", topic="orders/paid")
    del headers["X-Shopify-Webhook-Id"]
    assert shopify.delivery_meta(headers).delivery_id == (
        "orders/paid:98880550-7158-44d4-b7cd-2c97c8a091b5")
    del headers["X-Shopify-Event-Id"]
    assert shopify.delivery_meta(headers).delivery_id == ""


# --- orders ------------------------------------------------------------------------------

def test_order_with_tax_included_and_a_discount_code(shopify):
    event = shopify.read_webhook("orders/create", raw("order_tax_included"))
    assert event.kind == EventKind.ORDER
    order = event.order
    assert order.order_id == "820982911946154508"
    assert order.number == "#1001"
    assert order.state == OrderState.PAID
    assert order.currency == "TRY"
    assert order.code == "HOSGELDIN10"
    assert order.channel_label == "web"
    assert order.created_at == dt.datetime(2026, 11, 2, 10, 4, 10, tzinfo=TR)
    assert order.updated_at == event.occurred_at == dt.datetime(2026, 11, 2, 10, 4, 12,
                                                                tzinfo=TR)
    kahve, cezve = order.lines
    assert (kahve.line_id, kahve.sku, kahve.name) == (
        "866550311766439020", "KAHVE-250-ORTA", "Türk Kahvesi 250 g - Orta Kavrulmuş")
    assert (kahve.quantity, kahve.unit_price, kahve.discount) == (D(2), D("150.00"), D("30.00"))
    assert (cezve.quantity, cezve.unit_price, cezve.discount) == (D(1), D("400.00"), D("40.00"))
    assert kahve.category == ""  # a webhook's order: the product type is on the product
    # The lines add up to what the buyer paid for the goods; the shipping is left out.
    assert sum(line.unit_price * line.quantity - line.discount for line in order.lines) == D(
        "630.00")
    customer = order.customer
    assert (customer.email, customer.customer_id, customer.first_name, customer.last_name,
            customer.phone, customer.language) == (
        "ayse.yilmaz@example.com.tr", "115310627314723954", "Ayşe", "Yılmaz",
        "+905321234567", "tr")
    assert customer.consent.given is True
    assert customer.consent.evidence == (
        "Shopify customer 115310627314723954: email_marketing_consent=subscribed "
        "(confirmed_opt_in)")
    assert customer.consent.occurred_at == dt.datetime(2026, 10, 2, 14, 6, tzinfo=TR)
    assert order.refunds == ()


def test_order_with_tax_on_top_from_a_guest(shopify):
    order = shopify.read_webhook("orders/create", raw("order_tax_excluded_guest")).order
    lokum, fincan = order.lines
    # 3 x 200.00 less 60.00 discount, plus 10% KDV on the 540.00 paid: 594.00, grossed up.
    assert (lokum.unit_price, lokum.quantity, lokum.discount) == (D("220.00"), D(3), D("66.00"))
    assert (fincan.unit_price, fincan.quantity, fincan.discount) == (D("420.00"), D(1), D(0))
    assert sum(line.unit_price * line.quantity - line.discount for line in order.lines) == D(
        "1014.00")
    assert order.code == ""
    assert order.channel_label == "pos"
    guest = order.customer
    assert (guest.email, guest.customer_id, guest.first_name, guest.last_name, guest.phone) == (
        "zeynep.kaya@example.com", "", "Zeynep", "Kaya", "+905551112233")
    assert guest.consent is None


@pytest.mark.parametrize("status, cancelled_at, state", [
    ("paid", None, OrderState.PAID),
    ("partially_paid", None, OrderState.PAID),
    ("partially_refunded", None, OrderState.PAID),
    ("refunded", None, OrderState.PAID),
    ("pending", None, OrderState.PENDING),
    ("authorized", None, OrderState.PENDING),
    ("voided", None, OrderState.CANCELLED),
    ("expired", None, OrderState.CANCELLED),
    ("refunded", "2026-11-04T09:00:00+03:00", OrderState.CANCELLED),
    ("pending", "2026-11-04T09:00:00+03:00", OrderState.CANCELLED),
])
def test_financial_status_and_cancellation_make_the_state(status, cancelled_at, state):
    data = {**payload("order_tax_included"), "financial_status": status,
            "cancelled_at": cancelled_at}
    assert order_from_rest(data).state == state


def test_orders_cancelled(shopify):
    event = shopify.read_webhook("orders/cancelled", raw("orders_cancelled"))
    assert event.kind == EventKind.ORDER
    assert event.order.state == OrderState.CANCELLED
    assert event.order.number == "#1003"


def test_orders_updated_with_a_line_refund_and_a_shipping_refund(shopify):
    event = shopify.read_webhook("orders/updated", raw("orders_updated_refunded"))
    order = event.order
    assert order.state == OrderState.PAID
    assert order.updated_at == dt.datetime(2026, 11, 5, 11, 30, tzinfo=TR)
    # The shipping-only refund is left out: the purchase has no shipping to give back.
    (refund,) = order.refunds
    assert refund.refund_id == "509562969"
    assert refund.amount == D("135.00")  # tax included: the subtotal has it
    assert refund.lines == (("866550311766439020", D(1)),)
    assert refund.refunded_at == dt.datetime(2026, 11, 5, 11, 29, 50, tzinfo=TR)
    # The lines are the ordered quantities: the refund takes its part back.
    assert order.lines[0].quantity == D(2)


def test_a_refund_of_an_order_with_tax_on_top_adds_the_lines_tax():
    data = payload("orders_updated_refunded")
    data["taxes_included"] = False
    (refund,) = order_from_rest(data).refunds
    assert refund.amount == D("157.50")


def test_refunds_create(shopify):
    event = shopify.read_webhook("refunds/create", raw("refunds_create"))
    assert event.kind == EventKind.REFUND
    assert event.order_id == "820982911946154508"
    assert event.refund.refund_id == "509562969"
    assert event.refund.amount == D("135.00")
    assert event.refund.lines == (("866550311766439020", D(1)),)
    assert event.occurred_at == dt.datetime(2026, 11, 5, 11, 29, 50, tzinfo=TR)


def test_refunds_create_of_tax_on_top_goes_by_the_money_returned():
    data = payload("refunds_create")
    data["refund_line_items"][0].update(subtotal=200.0, subtotal_set=None, total_tax=20.0,
                                        total_tax_set=None)
    data["transactions"][0]["amount"] = "229.90"
    data["refund_shipping_lines"] = [{"subtotal_amount_set": {"shop_money": {
        "amount": "9.90", "currency_code": "TRY"}}}]
    assert refund_from_rest(data).amount == D("220.00")
    data["transactions"] = []  # nothing went back (restock only): the subtotal
    assert refund_from_rest(data).amount == D("200.00")


def test_a_refund_of_shipping_alone_is_ignored(shopify):
    data = payload("orders_updated_refunded")["refunds"][1]
    event = shopify.read_webhook("refunds/create", json.dumps(data).encode())
    assert event.kind == EventKind.IGNORED
    assert event.order_id == "820982911946154508"


def test_gift_cards_are_not_lines():
    data = payload("order_tax_included")
    data["line_items"][1]["gift_card"] = True
    assert [line.sku for line in order_from_rest(data).lines] == ["KAHVE-250-ORTA"]


def test_a_line_without_sku_is_its_product_id_and_the_email_falls_back():
    data = payload("order_tax_included")
    data["line_items"][0]["sku"] = ""
    data["email"] = None
    data["contact_email"] = None
    order = order_from_rest(data)
    assert order.lines[0].sku == "632910392"
    assert order.customer.email == "ayse.yilmaz@example.com.tr"  # the customer's


# --- customers and consent ----------------------------------------------------------------

def test_customers_create(shopify):
    event = shopify.read_webhook("customers/create", raw("customers_create"))
    assert event.kind == EventKind.CUSTOMER
    customer = event.customer
    assert (customer.email, customer.customer_id, customer.first_name, customer.last_name,
            customer.phone) == ("mehmet.demir@example.com", "706405506930370084", "Mehmet",
                                "Demir", "+905339876543")
    assert customer.consent is None  # since API 2025-01 the customer webhooks leave it out


def test_customers_update_with_consent_withdrawn(shopify):
    event = shopify.read_webhook("customers/update", raw("customers_update"))
    consent = event.customer.consent
    assert consent.given is False
    assert consent.occurred_at == dt.datetime(2026, 11, 7, 8, 14, 58, tzinfo=TR)
    assert consent.evidence == ("Shopify customer 115310627314723954: "
                                "email_marketing_consent=unsubscribed (confirmed_opt_in)")


def test_email_marketing_consent_update(shopify):
    event = shopify.read_webhook("customers/email_marketing_consent/update",
                                 raw("customers_email_marketing_consent_update"))
    assert event.kind == EventKind.CUSTOMER
    assert event.customer.email == "mehmet.demir@example.com"
    assert event.customer.customer_id == "706405506930370084"
    assert event.customer.consent.given is True
    assert event.customer.consent.evidence == (
        "Shopify customer 706405506930370084: email_marketing_consent=subscribed "
        "(single_opt_in)")
    assert event.occurred_at == dt.datetime(2026, 11, 6, 12, 1, 30, tzinfo=TR)


@pytest.mark.parametrize("state, given", [
    ("subscribed", True), ("unsubscribed", False), ("redacted", False),
    ("not_subscribed", None), ("pending", None), ("invalid", None), (None, None),
])
def test_consent_states(shopify, state, given):
    data = payload("customers_email_marketing_consent_update")
    data["email_marketing_consent"]["state"] = state
    event = shopify.read_webhook("customers/email_marketing_consent/update",
                                 json.dumps(data).encode())
    consent = event.customer.consent
    assert (consent.given if consent else None) is given


# --- privacy topics -------------------------------------------------------------------------

def test_customers_data_request(shopify):
    event = shopify.read_webhook("customers/data_request", raw("customers_data_request"))
    assert event.kind == EventKind.CUSTOMER_DATA_REQUEST
    assert event.emails == ("ayse.yilmaz@example.com.tr",)


def test_customers_redact(shopify):
    event = shopify.read_webhook("customers/redact", raw("customers_redact"))
    assert event.kind == EventKind.CUSTOMER_REDACT
    assert event.emails == ("ayse.yilmaz@example.com.tr",)


def test_shop_redact(shopify):
    event = shopify.read_webhook("shop/redact", raw("shop_redact"))
    assert event.kind == EventKind.SHOP_REDACT


def test_an_unknown_topic_is_ignored(shopify):
    assert shopify.read_webhook("products/update", b"{}").kind == EventKind.IGNORED


# --- malformed bodies -----------------------------------------------------------------------

@pytest.mark.parametrize("topic", ["orders/create", "orders/updated", "refunds/create",
                                   "customers/update", "customers/email_marketing_consent/update",
                                   "customers/redact", "customers/data_request", "shop/redact"])
@pytest.mark.parametrize("body", [b"{not json", b"", b"[]", b'"text"', b"{}",
                                  b'{"id": {"nested": 1}}', b"\xff\xfe{"])
def test_malformed_or_wrong_shape_bodies_are_refused_with_400(shopify, topic, body):
    with pytest.raises(WebhookRefused) as caught:
        shopify.read_webhook(topic, body)
    assert caught.value.status == 400


def test_an_order_with_a_non_numeric_price_is_refused(shopify):
    data = payload("order_tax_included")
    data["line_items"][0]["price"] = "on beş lira"
    with pytest.raises(WebhookRefused):
        shopify.read_webhook("orders/create", json.dumps(data).encode())


# --- the Admin API through the fake ---------------------------------------------------------

def test_test_connection_names_the_shop(shopify, api):
    assert shopify.test_connection(access(api), client()) == "Anadolu Lezzetleri"
    request = api.requests[-1]
    assert request.path == f"/admin/api/{API_VERSION}/shop.json"
    assert request.header("X-Shopify-Access-Token") == "shpat_good"


def test_test_connection_with_a_wrong_token_is_auth(shopify, api):
    with pytest.raises(ConnectorError) as caught:
        shopify.test_connection(access(api, token="shpat_revoked"), client())
    assert caught.value.kind == ConnectorError.AUTH
    assert INVALID_TOKEN[:20] in caught.value.message


def test_test_connection_to_something_else_is_a_bad_answer(shopify, api):
    api.fail_next(200, body={"unexpected": True})
    with pytest.raises(ConnectorError) as caught:
        shopify.test_connection(access(api), client())
    assert caught.value.kind == ConnectorError.BAD_ANSWER


def backfill(shopify, api, http=None, cursor=None):
    http = http or client()
    pages, orders = [], []
    while True:
        page = shopify.orders_page(access(api), http, cursor=cursor)
        pages.append(page)
        orders.extend(page.orders)
        cursor = page.next_cursor
        if cursor is None:
            return pages, orders


def test_backfill_pages_600_orders_oldest_first(shopify, api):
    api.add_orders(600)
    pages, orders = backfill(shopify, api)
    assert [len(page.orders) for page in pages] == [250, 250, 100]
    assert pages[0].total == 600
    assert [order.order_id for order in orders] == [str(1000 + n) for n in range(600)]
    assert orders[0].customer.email == "musteri1000@example.com"
    assert orders[0].lines[0].line_id == "10001"
    # Categories: the products of each page, fetched once per page.
    assert orders[0].lines[0].category == "Kahve"
    assert orders[0].lines[1].category == "Mutfak"
    product_calls = [r for r in api.requests if r.path.endswith("/products.json")]
    assert len(product_calls) == 3
    assert product_calls[0].param("fields") == "id,product_type"
    first, second = [r for r in api.requests if r.path.endswith("/orders.json")][:2]
    assert first.param("status") == "any" and first.param("limit") == "250"
    assert set(second.query) == {"limit", "page_info"}  # Shopify refuses filters with page_info


def test_backfill_resumes_from_a_stored_cursor(shopify, api):
    api.add_orders(600)
    first = shopify.orders_page(access(api), client(), cursor=None)
    # A new worker (a crash in between) carries on from the stored cursor.
    pages, orders = backfill(shopify, api, cursor=first.next_cursor)
    assert [len(page.orders) for page in pages] == [250, 100]
    assert orders[0].order_id == "1250"
    assert pages[0].total is None


def test_backfill_includes_cancelled_and_closed_orders(shopify, api):
    api.add_order(id=1, created_at="2026-01-01T10:00:00+03:00")
    api.add_order("orders_cancelled", id=2)
    _pages, orders = backfill(shopify, api)
    assert [order.state for order in orders] == [OrderState.PAID, OrderState.CANCELLED]


def test_an_empty_store(shopify, api):
    page = shopify.orders_page(access(api), client(), cursor=None)
    assert (page.orders, page.next_cursor, page.total) == ((), None, 0)


def test_poll_by_updated_at_min(shopify, api):
    api.add_orders(5)
    api.add_order(id=1002, updated_at="2026-12-01T12:00:00+03:00")
    api.add_order(id=1004, updated_at="2026-12-02T12:00:00+03:00")
    since = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    page = shopify.orders_page(access(api), client(), cursor=None, updated_since=since)
    assert [order.order_id for order in page.orders] == ["1002", "1004"]
    assert page.next_cursor is None
    assert api.requests[0].param("updated_at_min") == "2026-12-01T09:00:00+00:00"
    assert api.requests[0].param("since_id") == "" and api.requests[0].param("status") == "any"


def test_poll_pages_keep_the_filter(shopify, api):
    api.add_orders(300)
    for n in range(260):
        api.orders[1000 + n]["updated_at"] = "2026-12-03T10:00:00+03:00"
    since = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    first = shopify.orders_page(access(api), client(), cursor=None, updated_since=since)
    # The job passes its updated_since with every page: the cursor carries the filter.
    second = shopify.orders_page(access(api), client(), cursor=first.next_cursor,
                                 updated_since=since)
    assert len(first.orders) + len(second.orders) == 260
    assert second.next_cursor is None


def test_429_with_retry_after_then_success(shopify, api):
    api.add_orders(3)
    api.fail_next(429, retry_after=2, body={"errors": "Exceeded 2 calls per second for api "
                                                      "client. Reduce request rates to resume "
                                                      "uninterrupted service."})
    http = client()
    page = shopify.orders_page(access(api), http, cursor=None)
    assert len(page.orders) == 3
    assert http.waits == [2.0]


def test_429_that_lasts_is_rate_limited(shopify, api):
    api.add_orders(3)
    api.fail_next(429, times=5, retry_after=10)
    with pytest.raises(ConnectorError) as caught:
        shopify.orders_page(access(api), client(retries=2), cursor=None)
    assert caught.value.kind == ConnectorError.RATE_LIMITED
    assert caught.value.retry_after == 10


def test_5xx_is_retried_then_unavailable(shopify, api):
    api.add_orders(3)
    api.fail_next(502)
    assert len(shopify.orders_page(access(api), client(), cursor=None).orders) == 3
    api.fail_next(503, times=9)
    with pytest.raises(ConnectorError) as caught:
        shopify.orders_page(access(api), client(retries=1), cursor=None)
    assert caught.value.kind == ConnectorError.UNAVAILABLE


def test_a_slow_answer_times_out_and_is_retried(shopify, api):
    api.add_orders(3)
    api.slow_next(1.5)
    http = client(timeout=0.5)
    page = shopify.orders_page(access(api), http, cursor=None)
    assert len(page.orders) == 3
    assert http.waits == [1.0]


def test_a_revoked_token_is_auth_and_not_retried(shopify, api):
    api.add_orders(3)
    api.expire_credentials()
    with pytest.raises(ConnectorError) as caught:
        shopify.orders_page(access(api), client(), cursor=None)
    assert caught.value.kind == ConnectorError.AUTH
    assert len(api.requests) == 1


def test_an_answer_of_the_wrong_shape_is_a_bad_answer(shopify, api):
    api.fail_next(200, body={"orders": "none"})
    with pytest.raises(ConnectorError) as caught:
        shopify.orders_page(access(api), client(), cursor=None)
    assert caught.value.kind == ConnectorError.BAD_ANSWER


def test_an_order_added_from_a_payload_keeps_its_refund_lines_matching(shopify, api):
    api.add_order("orders_updated_refunded", id=7, email="can@example.com",
                  updated_at="2026-12-01T10:00:00+03:00")
    order = shopify.order(access(api), client(), "7")
    assert [line.line_id for line in order.lines] == ["71", "72"]
    assert order.refunds[0].refund_id == "701"
    assert order.refunds[0].lines == (("71", D(1)),)
    assert order.customer.email == "can@example.com"
    assert order.updated_at == dt.datetime(2026, 12, 1, 10, tzinfo=TR)


def test_one_order_by_id(shopify, api):
    api.add_order("order_tax_excluded_guest")
    order = shopify.order(access(api), client(), "450789469001")
    assert order.customer.email == "zeynep.kaya@example.com"
    assert order.lines[0].category == "Tatlı"
    assert shopify.order(access(api), client(), "999") is None
    assert shopify.order(access(api), client(), "not-an-id") is None


# --- the fake itself, as documented ----------------------------------------------------------

def test_the_fake_refuses_page_info_with_filters_and_big_limits(api):
    api.add_orders(3)
    http = client()
    base = f"{api.base_url}/admin/api/{API_VERSION}/orders.json"
    auth = {"X-Shopify-Access-Token": "shpat_good"}
    with pytest.raises(ConnectorError) as caught:
        http.get_json(base, params={"limit": 251}, headers=auth)
    assert caught.value.status == 400
    _body, headers = http.get_json(base, params={"limit": 1, "status": "any"}, headers=auth)
    token = next_page_info(headers)
    with pytest.raises(ConnectorError):
        http.get_json(base, params={"page_info": token, "status": "any"}, headers=auth)
    body, headers = http.get_json(base, params={"page_info": token, "limit": 1}, headers=auth)
    assert [order["id"] for order in body["orders"]] == [1001]
    assert 'rel="previous"' in headers["Link"] and 'rel="next"' in headers["Link"]


def test_the_fake_default_status_is_open(api):
    api.add_order(id=1)
    api.add_order("orders_cancelled", id=2)
    body, _headers = client().get_json(f"{api.base_url}/admin/api/{API_VERSION}/orders.json",
                                       headers={"X-Shopify-Access-Token": "shpat_good"})
    assert [order["id"] for order in body["orders"]] == [1]


def test_next_page_info_reads_the_link_header():
    link = ('<https://x.myshopify.com/admin/api/2025-07/orders.json?limit=250&page_info=abc>; '
            'rel="previous", <https://x.myshopify.com/admin/api/2025-07/orders.json?limit=250'
            '&page_info=def>; rel="next"')
    assert next_page_info({"link": link}) == "def"
    assert next_page_info({"Link": link.split(", ")[0]}) is None
    assert next_page_info({}) is None
