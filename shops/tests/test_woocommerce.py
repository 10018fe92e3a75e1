"""WooCommerce against its documented payloads and a local fake of its REST API: webhooks
(signature, topics, ping, malformed bodies) and the API (paging, poll, faults, credentials).
No database, no network."""
import datetime as dt
import json
import time
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
from shops.platforms.woocommerce import (
    OVERLAP, WooCommercePlatform, order_from_json, refund_from_json, sign,
)
from shops.tests.fakes.woocommerce import FakeWooAPI, payload

SECRET = "wh-secret-ç-1"
UTC = dt.UTC
woo = WooCommercePlatform()


def body_of(name, **changes):
    data = payload(name)
    data.update(changes)
    return json.dumps(data, ensure_ascii=False).encode()


def headers_for(body, topic="order.updated", secret=SECRET, delivery="7b4e2c1f0d9a8b7c"):
    return {"X-WC-Webhook-Topic": topic, "X-WC-Webhook-Signature": sign(secret, body),
            "X-WC-Webhook-ID": "17", "X-WC-Webhook-Delivery-ID": delivery,
            "Content-Type": "application/json"}


def access(base_url="https://kahvedukkani.example.com", **credentials):
    return StoreAccess(key="kahve", base_url=base_url, webhook_secret=SECRET,
                       credentials=credentials or {"consumer_key": "ck_test_1234",
                                                   "consumer_secret": "cs_test_5678"})


def client(**options):
    waits = []
    http = ShopHTTP(sleep=waits.append, timeout=options.pop("timeout", 5), **options)
    http.waits = waits
    return http


@pytest.fixture
def api():
    with FakeWooAPI() as fake:
        yield fake


def read(name, topic="order.updated", **changes):
    return woo.read_webhook(topic, body_of(name, **changes))


def parse(name, **changes):
    """The order in a recorded body as the REST API gives it (order_from_json)."""
    return order_from_json(json.loads(body_of(name, **changes)))


# --- registration ------------------------------------------------------------------------------

def test_it_registers_itself_with_its_credentials_and_topics():
    platform = platform_for("woocommerce")
    assert isinstance(platform, WooCommercePlatform)
    assert [field.name for field in platform.credential_fields] == ["consumer_key",
                                                                    "consumer_secret"]
    assert {"order.created", "order.updated", "customer.created"} <= set(
        platform.webhook_topics)
    assert platform.webhook_timeout == 5.0


# --- signatures --------------------------------------------------------------------------------

def test_a_good_signature_is_accepted():
    body = body_of("order.json")
    woo.verify_webhook(access(), headers_for(body), body)


def test_header_names_are_matched_whatever_their_case():
    body = body_of("order.json")
    headers = {name.lower(): value for name, value in headers_for(body).items()}
    woo.verify_webhook(access(), headers, body)


@pytest.mark.parametrize("case", ["bad", "missing", "tampered", "wrong secret", "no secret"])
def test_a_bad_missing_or_wrong_signature_is_refused(case):
    body = body_of("order.json")
    headers = headers_for(body, secret="another secret" if case == "wrong secret" else SECRET)
    store = access()
    if case == "bad":
        headers["X-WC-Webhook-Signature"] = "bm90IGEgc2lnbmF0dXJl"
    elif case == "missing":
        del headers["X-WC-Webhook-Signature"]
    elif case == "tampered":
        body = body.replace(b'"682.90"', b'"6.90"')
    elif case == "no secret":
        store = StoreAccess(key="kahve", base_url=store.base_url, credentials={})
    with pytest.raises(WebhookRefused) as refused:
        woo.verify_webhook(store, headers, body)
    assert refused.value.status == 401


def test_the_delivery_id_tells_apart_two_deliveries_of_the_same_second():
    """X-WC-Webhook-Delivery-ID is wp_hash(webhook id . current second): the signature (a
    digest of the body) is added, so only the very same delivery maps to the same id."""
    first, second = body_of("order.json"), body_of("order_guest.json")
    meta_first = woo.delivery_meta(headers_for(first))
    meta_second = woo.delivery_meta(headers_for(second))
    assert meta_first.topic == "order.updated"
    assert meta_first.webhook_id == "17"
    assert meta_first.delivery_id.startswith("7b4e2c1f0d9a8b7c:")
    assert meta_first.delivery_id != meta_second.delivery_id
    assert woo.delivery_meta(headers_for(first)) == meta_first  # a replay is the same delivery
    assert len(meta_first.delivery_id) <= 128


# --- the ping ----------------------------------------------------------------------------------

def test_the_creation_ping_is_taken_unsigned_and_read_as_a_ping():
    body = payload("ping.txt").encode()
    headers = {"User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)"}
    meta = woo.delivery_meta(headers)
    woo.verify_webhook(access(), headers, body)
    assert (meta.topic, meta.delivery_id) == ("ping", "")
    assert woo.read_webhook(meta.topic, body).kind == EventKind.PING


@pytest.mark.parametrize(("headers", "body"), [
    ({}, b"webhook_id=17&order=1"),  # more than a ping
    ({}, b'{"id": 1207}'),
    ({"X-WC-Webhook-Topic": "order.updated"}, b"webhook_id=17"),  # a topic must be signed
])
def test_only_the_exact_ping_goes_unsigned(headers, body):
    with pytest.raises(WebhookRefused) as refused:
        woo.verify_webhook(access(), headers, body)
    assert refused.value.status == 401


def test_a_ping_topic_with_another_body_is_malformed():
    with pytest.raises(WebhookRefused) as refused:
        woo.read_webhook("ping", b'{"id": 3}')
    assert refused.value.status == 400


# --- reading orders ----------------------------------------------------------------------------

def test_an_order_is_read_with_its_lines_coupon_channel_customer_and_refunds():
    event = read("order.json", topic="order.created")
    order = parse("order.json")
    assert (event.kind, event.order_id) == (EventKind.ORDER, "1207")
    assert (order.order_id, order.number, order.state, order.currency) == (
        "1207", "#1207", OrderState.PAID, "TRY")
    assert (order.code, order.channel_label) == ("hosgeldin10", "checkout")
    assert order.created_at == dt.datetime(2026, 11, 2, 10, 14, 15, tzinfo=UTC)
    assert order.updated_at == event.occurred_at == dt.datetime(2026, 11, 4, 6, 30, tzinfo=UTC)
    coffee, cups = order.lines
    assert (coffee.line_id, coffee.sku, coffee.name, coffee.quantity) == (
        "1201", "KAHVE-250", "Türk Kahvesi 250 g", Decimal(2))
    assert (coffee.unit_price, coffee.discount) == (Decimal("120.00"), Decimal("24.00"))
    # A variation without a SKU: its variation id; the name's HTML entity decoded.
    assert (cups.sku, cups.name) == ("23", "Fincan Takımı – Renk: Lacivert")
    assert (cups.unit_price, cups.discount) == (Decimal("450.00"), Decimal("45.00"))
    assert coffee.category == cups.category == ""  # a webhook is read without requests
    customer = order.customer
    assert (customer.email, customer.customer_id, customer.first_name, customer.last_name,
            customer.phone) == ("ayse.yilmaz@example.com", "26", "Ayşe", "Yılmaz",
                                "+90 532 000 00 00")
    assert customer.consent is None  # WooCommerce documents no consent field
    assert [(refund.refund_id, refund.amount, refund.lines) for refund in order.refunds] == [
        ("1310", Decimal("108.00"), ())]
    # Only the order's summary of its refunds (it may count refunded shipping, names no
    # lines): the webhook gives the id, and the engine fetches the order with them in full.
    assert order.refunds_summarised and event.order is None


def test_an_order_without_refunds_is_read_from_its_webhook_as_it_is():
    event = read("order_guest.json")
    assert event.order is not None and not event.order.refunds_summarised


def test_lines_add_up_to_the_merchandise_with_tax_and_without_shipping_or_fees():
    data = payload("order.json")
    order = parse("order.json")
    paid = sum(line.unit_price * line.quantity - line.discount for line in order.lines)
    left_out = sum(Decimal(data[key]) for key in ("shipping_total", "shipping_tax")) + sum(
        Decimal(fee["total"]) + Decimal(fee["total_tax"]) for fee in data["fee_lines"])
    assert paid == Decimal(data["total"]) - left_out == Decimal("621.00")
    discounts = sum(line.discount for line in order.lines)
    assert discounts == Decimal(data["discount_total"]) + Decimal(data["discount_tax"])


@pytest.mark.parametrize(("status", "state"), [
    ("pending", OrderState.PENDING), ("on-hold", OrderState.PENDING),
    ("checkout-draft", OrderState.PENDING), ("processing", OrderState.PAID),
    ("completed", OrderState.PAID), ("refunded", OrderState.PAID),
    ("cancelled", OrderState.CANCELLED), ("failed", OrderState.CANCELLED),
    ("trash", OrderState.CANCELLED),
])
def test_statuses_map_to_states(status, state):
    assert parse("order.json", status=status).state == state


@pytest.mark.parametrize(("paid", "state"), [("2026-11-02T10:14:20", OrderState.PAID),
                                             (None, OrderState.PENDING)])
def test_a_plugins_status_is_paid_when_the_order_has_a_payment_date(paid, state):
    order = parse("order.json", status="kargoda", date_paid_gmt=paid, date_paid=paid)
    assert order.state == state


def test_a_guest_order_has_no_customer_id_and_no_coupon():
    order = read("order_guest.json").order
    assert (order.customer.customer_id, order.customer.email) == ("",
                                                                  "mehmet.demir@example.com")
    assert (order.code, order.state, order.refunds) == ("", OrderState.PAID, ())
    assert [(line.sku, line.quantity, line.unit_price, line.discount) for line in order.lines] == [
        ("LOKUM-500", Decimal(3), Decimal("99.00"), Decimal("0.00"))]


def test_a_refunded_order_is_paid_with_refunds_for_all_of_it():
    refunded = payload("orders_page.json")[2]
    order = order_from_json(refunded)
    assert order.state == OrderState.PAID
    assert sum(refund.amount for refund in order.refunds) == Decimal(refunded["total"])


def test_dates_fall_back_to_site_time_when_the_gmt_ones_are_null():
    order = parse("order.json", date_modified_gmt=None, date_modified="2026-11-04T09:30:00")
    assert order.updated_at == dt.datetime(2026, 11, 4, 9, 30, tzinfo=UTC)


def test_an_order_moved_to_the_trash_names_only_its_id():
    event = woo.read_webhook("order.deleted", body_of("order_deleted.json"))
    assert (event.kind, event.order, event.order_id) == (EventKind.ORDER, None, "1207")


def test_a_restored_order_is_read_in_full():
    event = read("order.json", topic="order.restored")
    assert (event.kind, event.order_id) == (EventKind.ORDER, "1207")
    assert read("order_guest.json", topic="order.restored").order is not None


@pytest.mark.parametrize("topic", ["customer.created", "customer.updated"])
def test_a_customer_is_read_without_consent(topic):
    event = woo.read_webhook(topic, body_of("customer.json"))
    customer = event.customer
    assert event.kind == EventKind.CUSTOMER
    assert (customer.email, customer.customer_id, customer.first_name, customer.last_name,
            customer.phone, customer.consent) == (
        "ayse.yilmaz@example.com", "26", "Ayşe", "Yılmaz", "+90 532 000 00 00", None)
    assert event.occurred_at == dt.datetime(2026, 10, 30, 15, 9, 30, tzinfo=UTC)


@pytest.mark.parametrize("topic", ["customer.deleted", "product.updated", "coupon.created",
                                   "action.woocommerce_add_to_cart"])
def test_topics_the_connector_does_not_use_are_ignored(topic):
    assert woo.read_webhook(topic, b'{"id": 26}').kind == EventKind.IGNORED


@pytest.mark.parametrize("body", [
    b'{"id": 1207, "status": ',  # cut short
    b"\xff\xfe not utf-8",
    b"[]",
    b'{"status": "processing"}',  # no id
    json.dumps({**payload("order.json"), "line_items": "none"}).encode(),
    json.dumps({**payload("order.json"), "line_items": [{"id": 1}]}).encode(),  # no quantity
    json.dumps({**payload("order.json"), "total": "x", "line_items": [
        {**payload("order.json")["line_items"][0], "total": "on bir"}]}).encode(),
    json.dumps({k: v for k, v in payload("order.json").items() if k != "status"}).encode(),
    json.dumps({**payload("order.json"), "date_created_gmt": None, "date_created": None}
               ).encode(),
    json.dumps({**payload("order.json"), "id": {"nested": 1}}).encode(),
])
def test_malformed_or_misshapen_bodies_are_refused_with_400(body):
    with pytest.raises(WebhookRefused) as refused:
        woo.read_webhook("order.updated", body)
    assert refused.value.status == 400


def test_a_10_mb_body_is_verified_and_read_quickly():
    data = payload("order.json")
    data["meta_data"] = [{"id": n, "key": f"_note_{n}", "value": "x" * 1000}
                         for n in range(10_000)]
    body = json.dumps(data).encode()
    assert len(body) > 10_000_000
    started = time.perf_counter()
    woo.verify_webhook(access(), headers_for(body), body)
    event = woo.read_webhook("order.updated", body)
    assert time.perf_counter() - started < 2.0
    assert event.order_id == "1207"


# --- refunds in full ---------------------------------------------------------------------------

def test_a_refund_in_full_names_the_order_lines_and_leaves_shipping_out():
    refund = refund_from_json(payload("refunds.json")[0])
    assert (refund.refund_id, refund.amount, refund.lines) == (
        "1310", Decimal("108.00"), (("1201", Decimal(1)),))
    assert refund.refunded_at == dt.datetime(2026, 11, 4, 6, 30, tzinfo=UTC)
    with_shipping = {**payload("refunds.json")[0], "amount": "157.90", "shipping_lines": [
        {"id": 1312, "method_title": "Yurtiçi Kargo", "total": "-41.58", "total_tax": "-8.32"}]}
    assert refund_from_json(with_shipping).amount == Decimal("108.00")
    amount_only = {**payload("refunds.json")[0], "amount": "20.00", "line_items": []}
    assert (refund_from_json(amount_only).amount, refund_from_json(amount_only).lines) == (
        Decimal("20.00"), ())


def test_one_order_is_read_with_categories_and_refunds_in_full(api):
    api.add_order()
    order = woo.order(access(api.base_url), client(), "1207")
    assert [line.category for line in order.lines] == ["Kahve", "Ev & Mutfak"]
    assert [(refund.refund_id, refund.amount, refund.lines) for refund in order.refunds] == [
        ("1310", Decimal("108.00"), (("1201", Decimal(1)),))]
    assert [request.path for request in api.requests] == [
        "/wp-json/wc/v3/orders/1207", "/wp-json/wc/v3/orders/1207/refunds",
        "/wp-json/wc/v3/products"]


def test_an_order_without_refunds_costs_no_refunds_request_and_a_missing_one_is_none(api):
    api.add_order(1300, source="order_guest.json")
    assert woo.order(access(api.base_url), client(), "1300").refunds == ()
    assert woo.order(access(api.base_url), client(), "999") is None
    assert "/wp-json/wc/v3/orders/1300/refunds" not in [request.path for request in api.requests]


# --- paging ------------------------------------------------------------------------------------

def _add_orders(api, count, start=2000):
    for order_id in range(start, start + count):
        api.add_order(order_id, email=f"alici{order_id}@example.com",
                      created=f"2026-11-0{1 + order_id % 9}T10:00:00")


def _all_pages(api, http, cursor=None, updated_since=None, limit=20):
    orders, cursors = [], []
    for _ in range(limit):
        page = woo.orders_page(access(api.base_url), http, cursor=cursor,
                               updated_since=updated_since)
        orders.extend(page.orders)
        cursors.append(page.next_cursor)
        cursor = page.next_cursor
        if cursor is None:
            return orders, cursors, page
    raise AssertionError("paging did not end")


def test_250_orders_come_in_pages_each_once_oldest_first_with_the_total(api):
    _add_orders(api, 250)
    http = client()
    orders, cursors, last = _all_pages(api, http)
    assert [order.order_id for order in orders] == [str(n) for n in range(2000, 2250)]
    assert last.total == 250
    assert len(cursors) == 3 and cursors[-1] is None
    order_requests = [request for request in api.requests if request.path.endswith("/orders")]
    assert len(order_requests) == 3 and len(api.requests) == 6  # orders + products a page
    first = order_requests[0]
    assert {name: first.param(name) for name in ("per_page", "orderby", "order",
                                                 "dates_are_gmt", "offset")} == {
        "per_page": "100", "orderby": "id", "order": "asc", "dates_are_gmt": "true",
        "offset": "0"}
    assert first.header("Authorization").startswith("Basic ")


def test_a_page_gets_its_products_categories_in_one_request(api):
    _add_orders(api, 3)
    page = woo.orders_page(access(api.base_url), client(), cursor=None)
    products = [request for request in api.requests if request.path.endswith("/products")]
    assert len(products) == 1
    assert products[0].param("include") == "22,93"
    assert {line.sku: line.category for order in page.orders for line in order.lines} == {
        "KAHVE-250": "Kahve", "23": "Ev & Mutfak"}  # a variation: its parent product's


def test_paging_resumes_from_a_stored_cursor(api):
    _add_orders(api, 250)
    first = woo.orders_page(access(api.base_url), client(), cursor=None)
    rest, _cursors, _last = _all_pages(api, client(), cursor=first.next_cursor)
    ids = [order.order_id for order in (*first.orders, *rest)]
    assert ids == [str(n) for n in range(2000, 2250)]


@pytest.mark.parametrize("trashed", [3, OVERLAP + 20])
def test_orders_trashed_while_paging_make_no_order_skipped(api, trashed):
    _add_orders(api, 250)
    first = woo.orders_page(access(api.base_url), client(), cursor=None)
    for order_id in range(2000, 2000 + trashed):  # leave the list before the cursor
        api.orders[order_id]["status"] = "trash"
    rest, _cursors, _last = _all_pages(api, client(), cursor=first.next_cursor)
    ids = [order.order_id for order in (*first.orders, *rest)]
    assert ids == [str(n) for n in range(2000, 2250)]


def test_orders_joining_the_list_while_paging_are_not_counted_twice(api):
    _add_orders(api, 300)
    since = dt.datetime(2026, 11, 20, tzinfo=UTC)
    for order_id in range(2000, 2300, 2):  # every second order modified after `since`
        api.orders[order_id]["date_modified_gmt"] = "2026-11-21T08:00:00"
    first = woo.orders_page(access(api.base_url), client(), cursor=None, updated_since=since)
    assert first.total == 150 and first.next_cursor
    for order_id in range(2001, 2031, 2):  # modified meanwhile, before the cursor
        api.orders[order_id]["date_modified_gmt"] = "2026-11-22T08:00:00"
    rest, _cursors, _last = _all_pages(api, client(), cursor=first.next_cursor,
                                       updated_since=since)
    ids = [order.order_id for order in (*first.orders, *rest)]
    assert len(ids) == len(set(ids))
    assert set(ids) >= {str(n) for n in range(2000, 2300, 2)}


def test_the_poll_asks_for_orders_modified_after_the_time_in_gmt(api):
    _add_orders(api, 5)
    api.orders[2003]["date_modified_gmt"] = "2026-12-01T09:00:01"
    since = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=3)))
    page = woo.orders_page(access(api.base_url), client(), cursor=None, updated_since=since)
    assert [order.order_id for order in page.orders] == ["2003"]
    assert page.next_cursor is None
    request = api.requests[0]
    assert (request.param("modified_after"), request.param("dates_are_gmt")) == (
        "2026-12-01T09:00:00", "true")


def test_an_empty_store_is_one_empty_last_page(api):
    page = woo.orders_page(access(api.base_url), client(), cursor=None)
    assert (page.orders, page.next_cursor, page.total) == ((), None, 0)
    assert len(api.requests) == 1


def test_a_page_that_is_not_a_list_of_orders_is_a_bad_answer(api):
    api.fail_next(200, body={"orders": []})
    with pytest.raises(ConnectorError) as caught:
        woo.orders_page(access(api.base_url), client(), cursor=None)
    assert caught.value.kind == ConnectorError.BAD_ANSWER


# --- faults and credentials --------------------------------------------------------------------

def test_429_waits_what_retry_after_says_then_succeeds(api):
    _add_orders(api, 2)
    api.fail_next(429, retry_after=3)
    http = client()
    page = woo.orders_page(access(api.base_url), http, cursor=None)
    assert len(page.orders) == 2
    assert http.waits == [3.0]


def test_5xx_is_retried_then_given_up_as_unavailable(api):
    _add_orders(api, 2)
    api.fail_next(503, times=2)
    http = client()
    assert len(woo.orders_page(access(api.base_url), http, cursor=None).orders) == 2
    assert http.waits == [1.0, 2.0]
    api.fail_next(500, times=9)
    with pytest.raises(ConnectorError) as caught:
        woo.orders_page(access(api.base_url), client(retries=2), cursor=None)
    assert (caught.value.kind, caught.value.status) == (ConnectorError.UNAVAILABLE, 500)


def test_a_slow_answer_times_out(api):
    api.slow_next(1.5, times=2)
    with pytest.raises(ConnectorError) as caught:
        woo.orders_page(access(api.base_url), client(timeout=0.3, retries=1), cursor=None)
    assert caught.value.kind == ConnectorError.UNAVAILABLE


def test_revoked_keys_are_an_auth_error_not_retried(api):
    api.expire_credentials()
    with pytest.raises(ConnectorError) as caught:
        woo.orders_page(access(api.base_url), client(), cursor=None)
    assert (caught.value.kind, caught.value.status) == (ConnectorError.AUTH, 401)
    assert "woocommerce_rest_cannot_view" in caught.value.message
    assert len(api.requests) == 1


def test_a_wrong_secret_is_an_auth_error(api):
    with pytest.raises(ConnectorError) as caught:
        woo.test_connection(access(api.base_url, consumer_key="ck_test_1234",
                                   consumer_secret="cs_old"), client())
    assert caught.value.kind == ConnectorError.AUTH
    assert "Consumer secret is invalid." in caught.value.message


def test_test_connection_answers_the_stores_address(api):
    assert woo.test_connection(access(api.base_url), client()) == (
        "https://kahvedukkani.example.com")
    assert api.requests[0].path == "/wp-json/wc/v3/system_status"
    assert "environment.home_url" in api.requests[0].param("_fields")


def test_test_connection_fails_when_the_store_does_not_answer():
    with pytest.raises(ConnectorError) as caught:
        woo.test_connection(access("http://127.0.0.1:9"), client(retries=0))
    assert caught.value.kind == ConnectorError.UNAVAILABLE


def test_a_plain_http_store_is_refused_before_its_keys_are_sent(api):
    http = ShopHTTP(allow_private=False)
    with pytest.raises(ConnectorError) as caught:
        woo.test_connection(access("http://kahvedukkani.example.com"), http)
    assert caught.value.kind == ConnectorError.BLOCKED
    assert http.requests_made == 0


# --- the fake ----------------------------------------------------------------------------------

def test_the_fake_builds_histories_from_the_recorded_order(api):
    order = api.add_order(1500, email="elif@example.com", status="completed",
                          created="2026-10-01T08:00:00")
    assert api.orders[1500] is order
    assert (order["billing"]["email"], order["status"], order["date_modified_gmt"],
            order["refunds"]) == ("elif@example.com", "completed", "2026-10-01T08:00:00", [])
    assert [line["id"] for line in order["line_items"]] == [150001, 150002]
    assert api.add_order()["id"] == 1501


def test_the_fake_signs_deliveries_as_woocommerce_does(api):
    from shops.tests.fakes.woocommerce import delivery

    order = api.add_order(1600, email="can@example.com", status="completed")
    headers, body = delivery(order, "order.created", secret=SECRET)
    woo.verify_webhook(access(), headers, body)
    meta = woo.delivery_meta(headers)
    event = woo.read_webhook(meta.topic, body)
    assert (meta.topic, event.order.order_id, event.order.customer.email) == (
        "order.created", "1600", "can@example.com")


def test_the_fake_lists_by_id_or_date_either_way(api):
    api.add_order(1701, created="2026-11-05T10:00:00")
    api.add_order(1700, created="2026-11-06T10:00:00")
    http, store = client(), access(api.base_url)
    for orderby, order, expected in [("id", "asc", [1700, 1701]), ("id", "desc", [1701, 1700]),
                                     ("date", "asc", [1701, 1700])]:
        body, _headers = http.get_json(f"{store.base_url}/wp-json/wc/v3/orders", params={
            "orderby": orderby, "order": order}, auth=("ck_test_1234", "cs_test_5678"))
        assert [row["id"] for row in body] == expected
