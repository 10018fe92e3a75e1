"""A minimal platform for the connector's own tests (shops/tests/conftest.py registers it):
its webhooks and API speak the contract's values as JSON, signed like WooCommerce (base64
HMAC-SHA256 of the body in X-Stub-Signature). The real platforms have their own tests; the
connector's rules (once per order, refunds, out of order, jobs) are tested on this one and,
parametrised, on each real platform's fake."""
import base64
import datetime as dt
import hashlib
import hmac
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from shops.platforms.base import (
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
)
from crm.tests.fake_http import FakeAnswer, FakeRequest, FakeHTTPAPI

TOPICS = {"order.created": EventKind.ORDER, "order.updated": EventKind.ORDER,
          "refund.created": EventKind.REFUND, "customer.updated": EventKind.CUSTOMER,
          "customer.redact": EventKind.CUSTOMER_REDACT,
          "customer.data_request": EventKind.CUSTOMER_DATA_REQUEST,
          "shop.redact": EventKind.SHOP_REDACT, "ping": EventKind.PING}


def sign(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text)


def order_from_json(data: Mapping[str, Any]) -> OrderData:
    customer = data["customer"]
    return OrderData(
        order_id=str(data["id"]), number=str(data.get("number", "")),
        created_at=_time(data["created_at"]), updated_at=_time(data["updated_at"]),
        state=OrderState(data["state"]), currency=data["currency"],
        lines=tuple(LineData(line_id=str(line["id"]), sku=line.get("sku", ""),
                             name=line.get("name", ""), category=line.get("category", ""),
                             quantity=Decimal(str(line["quantity"])),
                             unit_price=Decimal(str(line["unit_price"])),
                             discount=Decimal(str(line.get("discount", "0"))))
                    for line in data["lines"]),
        customer=customer_from_json(customer) if customer else CustomerData(email=""),
        code=data.get("code", ""), channel_label=data.get("channel", ""),
        refunds=tuple(refund_from_json(refund) for refund in data.get("refunds", [])),
    )


def customer_from_json(data: Mapping[str, Any]) -> CustomerData:
    consent = data.get("consent")
    return CustomerData(
        email=data.get("email", ""), customer_id=str(data.get("id", "")),
        first_name=data.get("first_name", ""), last_name=data.get("last_name", ""),
        phone=data.get("phone", ""), language=data.get("language", ""),
        consent=ConsentData(given=consent["given"],
                            occurred_at=_time(consent["at"]) if consent.get("at") else None,
                            evidence=consent.get("evidence", ""))
        if consent else None)


def refund_from_json(data: Mapping[str, Any]) -> RefundData:
    return RefundData(refund_id=str(data["id"]), amount=Decimal(str(data["amount"])),
                      refunded_at=_time(data["at"]) if data.get("at") else None,
                      lines=tuple((str(line_id), Decimal(str(quantity)))
                                  for line_id, quantity in data.get("lines", [])))


class StubPlatform(Platform):
    key = "stubshop"
    label = "Stub shop"
    credential_fields = (CredentialField("token", "API token"),)
    webhook_topics = tuple(TOPICS)
    page_size = 50

    def delivery_meta(self, headers: Mapping[str, str]) -> DeliveryMeta:
        return DeliveryMeta(topic=headers.get("X-Stub-Topic", ""),
                            delivery_id=headers.get("X-Stub-Delivery", ""))

    def verify_webhook(self, access: StoreAccess, headers: Mapping[str, str],
                       body: bytes) -> None:
        given = headers.get("X-Stub-Signature", "")
        if not given or not access.webhook_secret:
            raise WebhookRefused(401, "no signature")
        if not hmac.compare_digest(given, sign(access.webhook_secret, body)):
            raise WebhookRefused(401, "bad signature")

    def read_webhook(self, topic: str, body: bytes) -> WebhookEvent:
        kind = TOPICS.get(topic, EventKind.IGNORED)
        if kind in (EventKind.PING, EventKind.IGNORED):
            return WebhookEvent(kind=kind, topic=topic)
        try:
            data = json.loads(body)
            if kind == EventKind.ORDER:
                return WebhookEvent(kind=kind, topic=topic, order=order_from_json(data))
            if kind == EventKind.REFUND:
                return WebhookEvent(kind=kind, topic=topic, order_id=str(data["order_id"]),
                                    refund=refund_from_json(data))
            if kind == EventKind.CUSTOMER:
                return WebhookEvent(kind=kind, topic=topic, customer=customer_from_json(data))
            return WebhookEvent(kind=kind, topic=topic, emails=tuple(data.get("emails", [])))
        except (ValueError, KeyError, TypeError) as error:
            raise WebhookRefused(400, f"malformed {topic} body: {error}") from None

    def test_connection(self, access: StoreAccess, http: Any) -> str:
        body, _headers = http.get_json(f"{access.base_url}/shop",
                                       headers={"Authorization": _bearer(access)})
        return body["name"]

    def orders_page(self, access: StoreAccess, http: Any, *, cursor: str | None,
                    updated_since: dt.datetime | None = None) -> OrdersPage:
        params = {"after": cursor or "0", "limit": self.page_size}
        if updated_since is not None:
            params["updated_since"] = updated_since.isoformat()
        body, _headers = http.get_json(f"{access.base_url}/orders", params=params,
                                       headers={"Authorization": _bearer(access)})
        return OrdersPage(orders=tuple(order_from_json(order) for order in body["orders"]),
                          next_cursor=body.get("next"), total=body.get("total"))

    def order(self, access: StoreAccess, http: Any, order_id: str) -> OrderData | None:
        body, _headers = http.get_json(f"{access.base_url}/orders/{order_id}",
                                       headers={"Authorization": _bearer(access)})
        return order_from_json(body) if body else None


def _bearer(access: StoreAccess) -> str:
    return f"Bearer {access.credentials.get('token', '')}"


class FakeStubAPI(FakeHTTPAPI):
    """The stub platform's API: orders (contract JSON) paged by id, oldest first."""

    def __init__(self, token: str = "good-token", name: str = "Stub Shop") -> None:
        super().__init__()
        self.token = token
        self.name = name
        self.orders: dict[int, dict] = {}

    def authorised(self, request: FakeRequest) -> bool:
        return request.header("Authorization") == f"Bearer {self.token}"

    def handle(self, request: FakeRequest) -> FakeAnswer:
        if request.path == "/shop":
            return FakeAnswer(200, {"name": self.name})
        if request.path.startswith("/orders/"):
            order = self.orders.get(int(request.path.rsplit("/", 1)[1]))
            return FakeAnswer(200 if order else 404, order or {"error": "not found"})
        if request.path == "/orders":
            after, limit = int(request.param("after", "0")), int(request.param("limit", "50"))
            since = request.param("updated_since")
            chosen = [order for key, order in sorted(self.orders.items()) if key > after and (
                not since or _time(order["updated_at"]) >= _time(since))][:limit]
            last = chosen[-1]["id"] if chosen else None
            more = last is not None and any(key > last for key in self.orders)
            return FakeAnswer(200, {"orders": chosen, "total": len(self.orders),
                                    "next": str(last) if more else None})
        return FakeAnswer(404, {"error": "no such endpoint"})


def order_json(order_id: int, *, email: str = "ayse@example.com", state: str = "paid",
               created_at: str = "2026-11-02T10:00:00+03:00", updated_at: str = "",
               lines: list[dict] | None = None, refunds: list[dict] | None = None,
               currency: str = "TRY", code: str = "", consent: dict | None = None,
               **customer: str) -> dict:
    """An order as the stub platform sends it: three lines by default."""
    return {
        "id": order_id, "number": f"#{1000 + order_id}", "created_at": created_at,
        "updated_at": updated_at or created_at, "state": state, "currency": currency,
        "code": code, "channel": "web", "refunds": refunds or [],
        "customer": {"email": email, "id": customer.get("customer_id", ""),
                     "first_name": customer.get("first_name", "Ayşe"),
                     "last_name": customer.get("last_name", "Yılmaz"), "consent": consent},
        "lines": lines if lines is not None else [
            {"id": f"{order_id}-1", "sku": "KAHVE-250", "name": "Türk kahvesi 250 g",
             "category": "Kahve", "quantity": "2", "unit_price": "120.00"},
            {"id": f"{order_id}-2", "sku": "FINCAN", "name": "Fincan takımı",
             "category": "Ev", "quantity": "1", "unit_price": "450.00", "discount": "50.00"},
            {"id": f"{order_id}-3", "sku": "LOKUM", "name": "Lokum", "category": "Tatlı",
             "quantity": "1.5", "unit_price": "80.00"},
        ],
    }
