"""IdeaSoft against its documented behaviour, without the network: webhook signatures and
payloads (shops/tests/payloads/ideasoft), and the Admin API through a local fake
(shops/tests/fakes/ideasoft.py): paging, the poll, faults, OAuth token renewal."""
import base64
import datetime as dt
import hashlib
import hmac
import json
import threading
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
from shops.platforms.ideasoft import (
    POLL_LOOKBACK_DAYS,
    IdeaSoftPlatform,
    authorization_url,
    iso_currency,
    read_time,
    sign,
    tokens_from_code,
)
from crm.tests.fake_http import FakeAnswer
from shops.tests.fakes.ideasoft import FakeIdeaSoftAPI, delivery, payload, payload_bytes

SECRET = "secret-1"
TR = dt.timezone(dt.timedelta(hours=3))


@pytest.fixture
def platform():
    return IdeaSoftPlatform()  # its own memory of renewed tokens, per test


@pytest.fixture
def api():
    with FakeIdeaSoftAPI(client_secret=SECRET) as fake:
        yield fake


def access_for(api, saved=None, **overrides):
    credentials = {**api.credentials, **overrides}
    return StoreAccess(key="kahveci", base_url=api.base_url, credentials=credentials,
                       save_credentials=saved.append if saved is not None else None)


def client(**options):
    waits = []
    http = ShopHTTP(sleep=waits.append, timeout=options.pop("timeout", 5), **options)
    http.waits = waits
    return http


def signed(body, secret=SECRET):
    return {"X-Ideashop-Hmac-Sha256": sign(secret, body)}


def webhook_access(secret=SECRET, webhook_secret=""):
    return StoreAccess(key="kahveci", base_url="https://kahveci.myideasoft.com",
                       credentials={"client_id": "client-1", "client_secret": secret},
                       webhook_secret=webhook_secret)


# --- the platform as registered ------------------------------------------------------------

def test_registered_with_its_oauth_credentials():
    platform = platform_for("ideasoft")
    assert isinstance(platform, IdeaSoftPlatform)
    fields = {field.name: field for field in platform.credential_fields}
    assert list(fields) == ["client_id", "client_secret", "access_token", "refresh_token"]
    assert not fields["client_id"].secret
    assert all(fields[name].secret for name in ("client_secret", "access_token",
                                                "refresh_token"))
    assert platform.webhook_topics == ("order/create", "order/update", "member/create",
                                       "member/update")
    assert platform.webhook_timeout == 10.0


# --- signatures ----------------------------------------------------------------------------

def test_signature_is_base64_hmac_sha256_of_the_raw_body_with_the_client_secret(platform):
    body = payload_bytes("order_create")
    expected = base64.b64encode(hmac.new(SECRET.encode(), body, hashlib.sha256).digest())
    assert sign(SECRET, body) == expected.decode()
    platform.verify_webhook(webhook_access(), signed(body), body)  # no exception


def test_a_webhook_secret_set_on_the_store_is_used_instead(platform):
    body = payload_bytes("member_create")
    platform.verify_webhook(webhook_access(webhook_secret="hook-secret"),
                            signed(body, "hook-secret"), body)
    with pytest.raises(WebhookRefused):
        platform.verify_webhook(webhook_access(webhook_secret="hook-secret"), signed(body), body)


@pytest.mark.parametrize("headers", [
    {},
    {"X-Ideashop-Hmac-Sha256": ""},
    {"X-Ideashop-Hmac-Sha256": "bm90IGEgc2lnbmF0dXJl"},
    {"X-Ideashop-Hmac-Sha256": sign("another-apps-secret", payload_bytes("order_create"))},
    # the right digest, hex instead of the documented base64
    {"X-Ideashop-Hmac-Sha256": hmac.new(SECRET.encode(), payload_bytes("order_create"),
                                        hashlib.sha256).hexdigest()},
], ids=["missing", "empty", "bad", "wrong-secret", "hex"])
def test_bad_or_missing_signatures_are_refused_401(platform, headers):
    with pytest.raises(WebhookRefused) as caught:
        platform.verify_webhook(webhook_access(), headers, payload_bytes("order_create"))
    assert caught.value.status == 401


def test_a_tampered_body_is_refused(platform):
    body = payload_bytes("order_create")
    headers = signed(body)
    tampered = body.replace(b'"generalAmount": 722.4', b'"generalAmount": 7.4')
    assert tampered != body
    with pytest.raises(WebhookRefused) as caught:
        platform.verify_webhook(webhook_access(), headers, tampered)
    assert caught.value.status == 401


def test_a_store_without_a_secret_refuses_everything(platform):
    body = payload_bytes("order_create")
    with pytest.raises(WebhookRefused):
        platform.verify_webhook(webhook_access(secret=""), signed(body, ""), body)


def test_delivery_meta_no_documented_topic_or_delivery_id(platform):
    assert platform.delivery_meta({}).topic == ""
    assert platform.delivery_meta({}).delivery_id == ""  # the engine hashes the body
    assert platform.delivery_meta({"X-Ideashop-Topic": "order/create"}).topic == "order/create"


# --- reading the topics --------------------------------------------------------------------

def test_order_create_lines_as_the_buyer_paid_tl_as_try(platform):
    event = platform.read_webhook("order/create", payload_bytes("order_create"))
    assert event.kind == EventKind.ORDER
    order = event.order
    assert order.order_id == "1201"
    assert order.number == "c88728ce28151"
    assert order.currency == "TRY"
    assert order.state == OrderState.PAID
    assert order.code == "KAHVE50"
    assert order.channel_label == "ideasoft"  # order webhooks carry no `source`
    assert order.created_at == dt.datetime(2026, 11, 2, 10, 15, tzinfo=TR)
    assert order.updated_at == dt.datetime(2026, 11, 2, 10, 16, 12, tzinfo=TR)
    assert event.occurred_at == order.updated_at
    lines = {line.line_id: line for line in order.lines}
    assert set(lines) == {"9001", "9002", "9003"}
    # listed with VAT; the coupon (50 TL) spread over what each line cost after its own
    # discounts; shipping (29.90 TL) left out: generalAmount 722.40 - 29.90 = 692.50
    coffee, cups, delight = lines["9001"], lines["9002"], lines["9003"]
    assert (coffee.sku, coffee.name, coffee.quantity) == ("KAHVE-250", "Türk kahvesi 250 g", 2)
    assert (coffee.unit_price, coffee.discount) == (Decimal("120.00"), Decimal("16.16"))
    assert (cups.unit_price, cups.discount) == (Decimal("450.00"), Decimal("58.28"))
    assert delight.quantity == Decimal("1.5")
    assert (delight.unit_price, delight.discount) == (Decimal("55.00"), Decimal("5.56"))
    paid = sum(line.unit_price * line.quantity - line.discount for line in order.lines)
    assert paid == Decimal("692.50")
    assert all(line.category == "" for line in order.lines)  # not in a webhook: from the API


def test_order_customer_is_a_guest_by_email(platform):
    order = platform.read_webhook("order/create", payload_bytes("order_create")).order
    assert order.customer.email == "ayse@example.com"
    assert order.customer.customer_id == ""
    assert (order.customer.first_name, order.customer.last_name) == ("Ayşe", "Yılmaz")
    assert order.customer.consent is None


def test_order_update_with_only_the_changed_fields_names_the_order_to_fetch(platform):
    event = platform.read_webhook("order/update", payload_bytes("order_update_cancelled"))
    assert event.kind == EventKind.ORDER
    assert event.order is None
    assert event.order_id == "1201"
    assert event.occurred_at == dt.datetime(2026, 11, 3, 9, 0, tzinfo=TR)


def test_order_update_refunded_is_a_full_refund(platform):
    order = platform.read_webhook("order/update", payload_bytes("order_update_refunded")).order
    assert order.state == OrderState.CANCELLED
    assert order.refunds == ()


@pytest.mark.parametrize(("status", "payment_status", "state"), [
    ("approved", "success", OrderState.PAID),
    ("waiting_for_approval", "success", OrderState.PAID),
    ("being_prepared", "success", OrderState.PAID),
    ("fulfilled", "success", OrderState.PAID),
    ("personal_status_2", "success", OrderState.PAID),
    ("delivered", "in_transaction", OrderState.PAID),  # cash on delivery, collected
    ("waiting_for_payment", "in_transaction", OrderState.PENDING),
    ("approved", "failed", OrderState.PENDING),
    ("being_prepared", None, OrderState.PENDING),
    ("cancelled", "success", OrderState.CANCELLED),
    ("refunded", "success", OrderState.CANCELLED),
    ("deleted", "success", OrderState.CANCELLED),
])
def test_statuses_map_to_states(platform, status, payment_status, state):
    data = payload("order_create")
    data.update(status=status, paymentStatus=payment_status)
    order = platform.read_webhook("order/update", json.dumps(data).encode()).order
    assert order.state == state


def test_member_create_feeds_the_consent_flags_as_evidence(platform):
    event = platform.read_webhook("member/create", payload_bytes("member_create"))
    assert event.kind == EventKind.CUSTOMER
    customer = event.customer
    assert (customer.email, customer.customer_id) == ("ayse@example.com", "42")
    assert (customer.first_name, customer.last_name) == ("Ayşe", "Yılmaz")
    assert customer.phone == "+90 (555) 555 55 55"
    assert customer.consent.given is True
    assert customer.consent.evidence == ("IdeaSoft member 42: allowedToCampaigns=1, "
                                         "allowedToSms=0, allowedToPhone=0, kvkkStatus=1")
    assert customer.consent.occurred_at == dt.datetime(2026, 11, 1, 18, 20, tzinfo=TR)


def test_member_update_withdrawing_consent(platform):
    event = platform.read_webhook("member/update", payload_bytes("member_update"))
    customer = event.customer
    assert customer.customer_id == "42"
    assert customer.email == ""  # only the changed fields: fetched by id (customer())
    assert customer.consent.given is False
    assert customer.consent.evidence == ("IdeaSoft member 42: allowedToCampaigns=0, "
                                         "allowedToSms=0, kvkkStatus=1")
    assert customer.consent.occurred_at == dt.datetime(2026, 11, 10, 8, 5, tzinfo=TR)


def test_member_update_without_the_campaign_flag_says_nothing_of_consent(platform):
    body = json.dumps({"id": 42, "firstname": "Ayşe Nur", "kvkkStatus": 1}).encode()
    assert platform.read_webhook("member/update", body).customer.consent is None


def test_allowed_to_campaigns_date_is_the_consent_date(platform):
    data = payload("member_create")
    data["allowedToCampaignsUpdatedAt"] = "2026-10-01T12:00:00+03:00"
    consent = platform.read_webhook("member/update", json.dumps(data).encode()).customer.consent
    assert consent.occurred_at == dt.datetime(2026, 10, 1, 12, 0, tzinfo=TR)


@pytest.mark.parametrize(("body", "kind"), [
    (payload_bytes("order_create"), EventKind.ORDER),
    (payload_bytes("order_update_cancelled"), EventKind.ORDER),
    (payload_bytes("member_create"), EventKind.CUSTOMER),
    (b'{"id": 42, "status": "passive"}', EventKind.CUSTOMER),
])
def test_without_a_topic_the_body_says_what_it_is(platform, body, kind):
    assert platform.read_webhook("", body).kind == kind


def test_other_topics_are_ignored(platform):
    assert platform.read_webhook("product/create", b'{"id": 5}').kind == EventKind.IGNORED


@pytest.mark.parametrize("body", [
    b"{not json",
    b"",
    b"[1, 2]",
    b'{"status": "approved"}',
    b'{"id": "abc"}',
    json.dumps({**payload("order_create"), "currency": "Türk lirası"}).encode(),
    json.dumps({**payload("order_create"), "createdAt": "dün"}).encode(),
    json.dumps({**payload("order_create"), "orderItems": ["kahve"]}).encode(),
    json.dumps({**payload("order_create"), "generalAmount": "çok"}).encode(),
    json.dumps({**payload("member_create"), "allowedToCampaigns": "evet"}).encode(),
], ids=["not-json", "empty", "array", "no-id", "bad-id", "currency", "date", "item", "amount",
        "flag"])
def test_malformed_bodies_are_refused_400(platform, body):
    topic = "member/update" if b"allowedToCampaigns" in body else "order/create"
    with pytest.raises(WebhookRefused) as caught:
        platform.read_webhook(topic, body)
    assert caught.value.status == 400


def test_currencies_and_turkish_times():
    assert [iso_currency(code) for code in ("TL", "tl", "YTL", "TRY", "EURO", "USD")] == [
        "TRY", "TRY", "TRY", "TRY", "EUR", "USD"]
    assert read_time("2018-02-21T09:36:03+0300") == dt.datetime(2018, 2, 21, 9, 36, 3,
                                                                 tzinfo=TR)
    naive = read_time("2026-11-02 10:15:00")  # no offset: Istanbul
    assert naive.utcoffset() == dt.timedelta(hours=3)


# --- the API: paging, poll, faults ----------------------------------------------------------

def test_backfill_pages_250_orders_by_since_id_with_categories(platform, api):
    api.add_orders(250)
    access, http = access_for(api), client()
    seen, cursor, totals, pages = [], None, [], 0
    while True:
        page = platform.orders_page(access, http, cursor=cursor)
        pages += 1
        seen.extend(order.order_id for order in page.orders)
        totals.append(page.total)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == [str(number) for number in range(1, 251)]
    assert totals == [250, None, None]
    order_requests = [r for r in api.requests if r.path == "/admin-api/orders"]
    assert [r.param("sinceId") for r in order_requests] == ["", "100", "200"]
    assert all(r.param("sort") == "id" and r.param("limit") == "100" for r in order_requests)
    product_requests = [r for r in api.requests if r.path == "/admin-api/products"]
    assert len(product_requests) == 3  # once per page
    assert product_requests[0].param("ids") == "501,502,503"
    page = platform.orders_page(access, http, cursor="1")
    assert {line.category for line in page.orders[0].lines} == {"Kahve", "Ev", "Tatlı"}


def test_backfill_resumes_after_the_stored_cursor(platform, api):
    api.add_orders(250)
    page = platform.orders_page(access_for(api), client(), cursor="200")
    assert [order.order_id for order in page.orders] == [str(n) for n in range(201, 251)]
    assert page.next_cursor is None


def test_the_list_answer_reads_members_guests_and_source(platform, api):
    for order in payload("orders_page"):
        api.orders[order["id"]] = order
    page = platform.orders_page(access_for(api), client(), cursor=None)
    member_order, guest_order = page.orders
    assert member_order.customer.customer_id == "42"
    assert member_order.channel_label == "IdeaShop Payment"
    assert guest_order.customer.customer_id == ""
    assert guest_order.customer.email == "mehmet@example.com"
    assert guest_order.state == OrderState.PENDING
    assert guest_order.lines[0].category == "Mutfak"
    assert guest_order.lines[0].unit_price == Decimal("300.00")  # 250 + 20% VAT
    assert page.total == 2


def test_total_from_the_count_endpoint_when_no_header(platform, api):
    api.send_total_header = False
    api.add_orders(3)
    assert platform.orders_page(access_for(api), client(), cursor=None).total == 3


def test_poll_reads_recent_orders_and_keeps_the_changed_ones(platform, api):
    api.add_order(1, created_at="2026-09-01T10:00:00+0300")  # older than the look-back
    api.add_order(2, created_at="2026-11-20T10:00:00+0300")  # recent, unchanged since
    api.add_order(3, created_at="2026-11-21T10:00:00+0300", status="cancelled",
                  updated_at="2026-12-06T09:00:00+0300")
    api.add_order(4, created_at="2026-12-06T11:00:00+0300")
    since = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)  # 08:00 in Istanbul
    page = platform.orders_page(access_for(api), client(), cursor=None, updated_since=since)
    assert [order.order_id for order in page.orders] == ["3", "4"]
    assert page.orders[0].state == OrderState.CANCELLED
    assert page.next_cursor is None
    request = next(r for r in api.requests if r.path == "/admin-api/orders")
    first_day = (since.astimezone(TR) - dt.timedelta(days=POLL_LOOKBACK_DAYS)).date()
    assert request.param("startCreatedAt") == first_day.isoformat() == "2026-11-06"


def test_429_then_success(platform, api):
    api.add_orders(2)
    api.fail_next(429, retry_after=3)
    http = client()
    page = platform.orders_page(access_for(api), http, cursor=None)
    assert len(page.orders) == 2
    assert http.waits == [3.0]


def test_5xx_beyond_the_retries_is_unavailable(platform, api):
    api.add_orders(2)
    api.fail_next(503, times=3)
    http = client(retries=2)
    with pytest.raises(ConnectorError) as caught:
        platform.orders_page(access_for(api), http, cursor=None)
    assert caught.value.kind == ConnectorError.UNAVAILABLE


def test_5xx_once_is_retried(platform, api):
    api.add_orders(2)
    api.fail_next(502)
    http = client()
    assert len(platform.orders_page(access_for(api), http, cursor=None).orders) == 2
    assert http.waits == [1.0]


def test_a_slow_answer_times_out_and_is_retried(platform, api):
    api.add_orders(1)
    api.slow_next(1.0)
    http = client(timeout=0.3)
    assert len(platform.orders_page(access_for(api), http, cursor=None).orders) == 1
    assert http.waits == [1.0]


def test_an_expired_access_token_is_renewed_saved_once_and_remembered(platform, api):
    api.add_orders(150)
    saved = []
    access, http = access_for(api, saved), client()
    api.expire_access_token()
    first = platform.orders_page(access, http, cursor=None)
    assert len(first.orders) == 100
    assert saved == [{"client_id": "client-1", "client_secret": SECRET,
                      "access_token": api.access_token, "refresh_token": api.refresh_token}]
    assert api.token_requests[0]["grant_type"] == "refresh_token"
    assert api.token_requests[0]["refresh_token"] == "refresh-0"
    # the job's next page still holds the old StoreAccess: no second renewal
    second = platform.orders_page(access, http, cursor=first.next_cursor)
    assert len(second.orders) == 50
    assert len(api.token_requests) == 1
    assert len(saved) == 1


def test_two_threads_meeting_the_expired_token_renew_it_once(platform, api):
    api.add_orders(3)
    saved = []
    access = access_for(api, saved)
    api.expire_access_token()
    api.slow_next(0.2)  # the first call is slow: both threads meet the expired token
    results, errors = [], []

    def read():
        try:
            results.append(platform.orders_page(access, client(), cursor=None))
        except ConnectorError as error:  # pragma: no cover - the failure this guards
            errors.append(error)

    threads = [threading.Thread(target=read) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == []
    assert [len(page.orders) for page in results] == [3, 3]
    assert len(api.token_requests) == 1
    assert len(saved) == 1


def test_403_missing_scope_is_not_renewed(platform, api):
    api.fail_next(403, body={"errorMessage": "Bu işlem için yetkiniz yok."})
    with pytest.raises(ConnectorError) as caught:
        platform.orders_page(access_for(api), client(), cursor=None)
    assert caught.value.kind == ConnectorError.AUTH
    assert api.token_requests == []


def test_a_refused_renewal_asks_for_authorisation_again(platform, api):
    api.add_orders(1)
    saved = []
    access = access_for(api, saved)
    api.expire_access_token()
    api.refuse_refresh()
    with pytest.raises(ConnectorError) as caught:
        platform.orders_page(access, client(), cursor=None)
    assert caught.value.kind == ConnectorError.AUTH
    assert "authorise the app again" in caught.value.message
    assert saved == []


def test_revoked_credentials_are_an_auth_error(platform, api):
    api.expire_credentials()  # even the token endpoint refuses
    with pytest.raises(ConnectorError) as caught:
        platform.test_connection(access_for(api), client())
    assert caught.value.kind == ConnectorError.AUTH


def test_test_connection(platform, api):
    assert platform.test_connection(access_for(api), client()) == "127.0.0.1"
    request = api.requests[-1]
    assert request.path == "/admin-api/orders" and request.param("limit") == "1"
    assert request.header("Authorization") == "Bearer access-0"


def test_one_order_and_one_member_by_id(platform, api):
    api.add_order(7, email="zeynep@example.com")
    api.add_member(42, allowedToCampaigns=0)
    access, http = access_for(api), client()
    order = platform.order(access, http, "7")
    assert order.customer.email == "zeynep@example.com"
    assert {line.category for line in order.lines} == {"Kahve", "Ev", "Tatlı"}
    assert platform.order(access, http, "8") is None
    member = platform.customer(access, http, "42")
    assert member.email == "ayse@example.com"
    assert member.consent.given is False
    assert platform.customer(access, http, "43") is None


def test_authorisation_flow(api):
    url = authorization_url(api.base_url, client_id="client-1", state="s1",
                            redirect_uri="https://crm.example.com/shops/ideasoft/callback")
    assert url.startswith(f"{api.base_url}/panel/auth?client_id=client-1&response_type=code")
    tokens = tokens_from_code(client(), api.base_url, client_id="client-1",
                              client_secret=SECRET, code="code-from-redirect",
                              redirect_uri="https://crm.example.com/shops/ideasoft/callback")
    assert tokens == {"access_token": api.access_token, "refresh_token": api.refresh_token}
    with pytest.raises(ConnectorError):
        tokens_from_code(client(), api.base_url, client_id="client-1", client_secret=SECRET,
                         code="stale", redirect_uri="https://crm.example.com/cb")


def test_fake_orders_built_from_the_recorded_payload(api):
    order = api.add_order(55, email="ali@example.com", status="cancelled",
                          created_at="2026-12-01T09:00:00+0300")
    assert api.orders[55] is order
    assert order["customerEmail"] == "ali@example.com"
    assert [item["id"] for item in order["orderItems"]] == [551, 552, 553]
    assert order["updatedAt"] == "2026-12-01T09:00:00+0300"


def test_fake_deliveries_are_signed_like_ideasoft_signs_them(platform, api):
    order = api.add_order(56, email="ali@example.com")
    headers, body = delivery(order, secret=SECRET)
    platform.verify_webhook(webhook_access(), headers, body)
    meta = platform.delivery_meta(headers)
    event = platform.read_webhook(meta.topic, body)
    assert event.kind == EventKind.ORDER
    assert event.order.order_id == "56"
    assert event.order.customer.email == "ali@example.com"


# --- refunds (refund requests) ---------------------------------------------------------------

def test_one_order_with_its_approved_refund_requests(platform, api):
    api.orders[1201] = payload("order_create")
    for request in payload("order_refund_requests"):  # one approved, one still waiting
        api.refund_requests[request["id"]] = request
    order = platform.order(access_for(api), client(), "1201")
    (refund,) = order.refunds
    assert refund.refund_id == "301"
    assert refund.lines == (("9001", Decimal(1)),)
    assert refund.amount == Decimal("111.92")  # one of two coffees: 223.84 / 2
    assert refund.refunded_at == dt.datetime(2026, 11, 14, 16, 0, tzinfo=TR)
    assert order.updated_at == refund.refunded_at  # the order changed with its refund
    request = next(r for r in api.requests if r.path == "/admin-api/order_refund_requests")
    assert (request.param("order"), request.param("status")) == ("1201", "approved")


def test_a_refund_request_is_at_most_its_fee_or_its_fee_without_items(platform, api):
    api.add_order(5)
    api.add_refund_request(5, 311, items=((51, 2), (52, 1)), fee=100)
    api.add_refund_request(5, 312, items=(), fee=40, refundRequestItems=[])
    refunds = {r.refund_id: r for r in platform.order(access_for(api), client(), "5").refunds}
    assert refunds["311"].amount == Decimal("100.00")
    assert refunds["311"].lines == (("51", Decimal(2)), ("52", Decimal(1)))
    assert refunds["312"].amount == Decimal("40.00")
    assert refunds["312"].lines == ()


def test_the_poll_brings_an_order_whose_refund_was_approved_since(platform, api):
    api.add_order(9, created_at="2026-11-25T10:00:00+0300")  # unchanged itself
    api.add_order(10, created_at="2026-11-26T10:00:00+0300")
    api.add_refund_request(9, items=((91, 1),), fee=500, updated_at="2026-12-06T12:00:00+0300")
    since = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)
    page = platform.orders_page(access_for(api), client(), cursor=None, updated_since=since)
    assert [order.order_id for order in page.orders] == ["9"]
    assert page.orders[0].refunds[0].lines == (("91", Decimal(1)),)


def test_the_backfill_does_not_ask_for_refund_requests(platform, api):
    api.add_orders(3)
    platform.orders_page(access_for(api), client(), cursor=None)
    assert not [r for r in api.requests if r.path == "/admin-api/order_refund_requests"]


def test_without_the_product_or_refund_scopes_orders_are_read_without_them(platform, api):
    class NoScopes(FakeIdeaSoftAPI):
        def handle(self, request):
            if request.path in ("/admin-api/products", "/admin-api/order_refund_requests"):
                return FakeAnswer(403, {"errorMessage": "Bu işlem için yetkiniz yok."})
            return super().handle(request)

    with NoScopes(client_secret=SECRET) as fake:
        fake.add_order(3, created_at="2026-12-06T10:00:00+0300")
        access = access_for(fake)
        order = platform.order(access, client(), "3")
        assert {line.category for line in order.lines} == {""}
        assert order.refunds == ()
        since = dt.datetime(2026, 12, 6, 5, 0, tzinfo=dt.UTC)
        page = platform.orders_page(access, client(), cursor=None, updated_since=since)
        assert [o.order_id for o in page.orders] == ["3"]
