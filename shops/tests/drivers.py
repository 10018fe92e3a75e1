"""Drive one platform's fake through the connector's rules: each platform whose fake exists
gives a driver here, and the rule tests (test_orders_*.py, test_deliveries.py, test_sync.py,
test_webhook_door.py) run once per driver through the `driver` fixture.

Tests speak the stub's contract JSON (stub_platform.order_json: id, state, lines, refunds,
customer...). A driver turns it into its platform's documented payloads: the order put in its
fake API (`put_order`), a signed webhook delivery (`order_delivery`, `refund_delivery`, ...).
A real platform's driver is added to DRIVERS by its helper (e.g. "woocommerce": WooDriver)
once its fake can play every topic used here.
"""
import json
import uuid
from typing import Any

from shops.models import Store
from shops.tests.stub_platform import FakeStubAPI, sign

SECRET = "whsec-test-secret"


class StubDriver:
    platform = "stubshop"

    def __init__(self) -> None:
        self.api = FakeStubAPI()

    def start(self) -> "StubDriver":
        self.api.start()
        return self

    def stop(self) -> None:
        self.api.stop()

    # --- the store --------------------------------------------------------------------------

    def store(self, key: str = "stubby", **fields: Any) -> Store:
        store = Store(platform=self.platform, name=fields.pop("name", "Stubby"), key=key,
                      base_url=self.api.base_url, **fields)
        store.set_credentials({"token": self.api.token})
        store.set_webhook_secret(SECRET)
        store.save()
        return store

    # --- the API ----------------------------------------------------------------------------

    def put_order(self, order: dict) -> None:
        self.api.orders[int(order["id"])] = order

    def expire_credentials(self) -> None:
        self.api.expire_credentials()

    # --- webhooks ---------------------------------------------------------------------------

    def delivery(self, topic: str, payload: Any, *, delivery_id: str | None = None,
                 secret: str = SECRET) -> tuple[dict[str, str], bytes]:
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"X-Stub-Topic": topic,
                   "X-Stub-Delivery": delivery_id if delivery_id is not None
                   else uuid.uuid4().hex,
                   "X-Stub-Signature": sign(secret, body), "Content-Type": "application/json"}
        return headers, body

    def order_delivery(self, order: dict, *, created: bool = False,
                       delivery_id: str | None = None) -> tuple[dict[str, str], bytes]:
        return self.delivery("order.created" if created else "order.updated", order,
                             delivery_id=delivery_id)

    def refund_delivery(self, order_id: int, refund: dict) -> tuple[dict[str, str], bytes]:
        return self.delivery("refund.created", {**refund, "order_id": order_id})

    def customer_delivery(self, customer: dict) -> tuple[dict[str, str], bytes]:
        return self.delivery("customer.updated", customer)

    def redact_delivery(self, emails: list[str]) -> tuple[dict[str, str], bytes]:
        return self.delivery("customer.redact", {"emails": emails})

    def data_request_delivery(self, emails: list[str]) -> tuple[dict[str, str], bytes]:
        return self.delivery("customer.data_request", {"emails": emails})

    def shop_redact_delivery(self) -> tuple[dict[str, str], bytes]:
        return self.delivery("shop.redact", {})

    def malformed_delivery(self) -> tuple[dict[str, str], bytes]:
        return self.delivery("order.updated", b'{"id": 1, "lines": [')

    @staticmethod
    def wsgi_headers(headers: dict[str, str]) -> dict[str, str]:
        """The headers as Django's test client takes them."""
        return {"HTTP_" + name.upper().replace("-", "_"): value
                for name, value in headers.items() if name != "Content-Type"}


DRIVERS: dict[str, type] = {"stubshop": StubDriver}
