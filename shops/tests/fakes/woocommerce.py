"""A local fake of WooCommerce's REST API v3 (/wp-json/wc/v3/), from its documentation.

- Basic auth with one consumer key and secret: a wrong secret answers 401
  `woocommerce_rest_authentication_error` ("Consumer secret is invalid."); an unknown or
  revoked key (and `expire_credentials()`) leaves the request anonymous: 401
  `woocommerce_rest_cannot_view`. (Real WooCommerce takes Basic auth over HTTPS only; the fake
  is plain http on 127.0.0.1.)
- GET /orders: `status=any` (the default) leaves trashed orders out; per_page (1..100, else 400
  `rest_invalid_param`), page or offset, orderby id|date, order asc|desc, modified_after /
  after with dates_are_gmt; X-WP-Total, X-WP-TotalPages and Link headers as documented.
- GET /orders/<id> (404 `woocommerce_rest_shop_order_invalid_id`), /orders/<id>/refunds,
  /products?include=... (with top-level `_fields`), /system_status.

`orders` ({id: order JSON}), `products` and `refunds` ({order id: [refund JSON]}) are plain
dicts a test changes at will; `add_order()` builds an order from the recorded payload and
`delivery()` a signed webhook delivery of it.
"""
import base64
import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

from crm.tests.fake_http import FakeAnswer, FakeRequest, FakeHTTPAPI

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "woocommerce"
API = "/wp-json/wc/v3"


def payload(name: str) -> Any:
    """A recorded payload (shops/tests/payloads/woocommerce/<name>), parsed when JSON."""
    text = (PAYLOADS / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text


def delivery(data: Any, topic: str = "order.updated", *, secret: str,
             delivery_id: str = "7b4e2c1f0d9a8b7c6d5e4f3a2b1c0d9e",
             webhook_id: str = "17") -> tuple[dict[str, str], bytes]:
    """(headers, body) of a webhook delivery of `data` (an order or customer dict) signed with
    `secret` as WC_Webhook::deliver() sends it."""
    from shops.platforms.woocommerce import sign

    body = json.dumps(data, ensure_ascii=False).encode()
    return {"Content-Type": "application/json",
            "User-Agent": "WooCommerce/9.4.2 Hookshot (WordPress/6.7.1)",
            "X-WC-Webhook-Source": "https://kahvedukkani.example.com/",
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": topic.split(".")[0],
            "X-WC-Webhook-Event": topic.split(".")[-1],
            "X-WC-Webhook-Signature": sign(secret, body), "X-WC-Webhook-ID": webhook_id,
            "X-WC-Webhook-Delivery-ID": delivery_id}, body


def _error(status: int, code: str, message: str) -> FakeAnswer:
    return FakeAnswer(status, {"code": code, "message": message, "data": {"status": status}})


def _gmt(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment.astimezone(dt.UTC).replace(tzinfo=None) if moment.tzinfo else moment


class FakeWooAPI(FakeHTTPAPI):
    def __init__(self, consumer_key: str = "ck_test_1234", consumer_secret: str = "cs_test_5678",
                 home_url: str = "https://kahvedukkani.example.com") -> None:
        super().__init__()
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.home_url = home_url
        self.orders: dict[int, dict] = {}
        self.products: dict[int, dict] = {product["id"]: product
                                          for product in payload("products.json")}
        self.refunds: dict[int, list[dict]] = {1207: payload("refunds.json")}

    # --- building the store's data --------------------------------------------------------

    def add_order(self, order_id: int | None = None, *, source: str = "order.json",
                  email: str | None = None, status: str | None = None,
                  created: str | None = None, modified: str | None = None,
                  **changes: Any) -> dict:
        """An order like the recorded `source` payload, with a new id (the next free one by
        default), billing email, status, dates (GMT, "2026-11-02T10:14:15") and any other
        top-level field changed; under a new id its line item ids become <id>01, <id>02...
        and its refunds are dropped (unless given)."""
        order = copy.deepcopy(payload(source))
        order_id = order_id or max([1206, *self.orders]) + 1
        if order_id != order["id"]:
            for index, line in enumerate(order["line_items"], start=1):
                line["id"] = order_id * 100 + index
            if "refunds" not in changes:
                order["refunds"] = []
        order.update(id=order_id, number=str(order_id), **changes)
        if email is not None:
            order["billing"]["email"] = email
        if status is not None:
            order["status"] = status
        if created is not None:
            order["date_created_gmt"] = order["date_created"] = created
            order["date_modified_gmt"] = order["date_modified"] = modified or created
        elif modified is not None:
            order["date_modified_gmt"] = order["date_modified"] = modified
        self.orders[order_id] = order
        return order

    # --- auth -----------------------------------------------------------------------------

    def _basic(self, request: FakeRequest) -> tuple[str, str]:
        header = request.header("Authorization")
        if not header.startswith("Basic "):
            return "", ""
        key, _sep, secret = base64.b64decode(header[6:]).decode().partition(":")
        return key, secret

    def authorised(self, request: FakeRequest) -> bool:
        return self._basic(request) == (self.consumer_key, self.consumer_secret)

    def auth_refused(self, request: FakeRequest) -> FakeAnswer:
        key, _secret = self._basic(request)
        if key == self.consumer_key and not self.credentials_expired:
            return _error(401, "woocommerce_rest_authentication_error",
                          "Consumer secret is invalid.")
        return _error(401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")

    # --- endpoints ------------------------------------------------------------------------

    def handle(self, request: FakeRequest) -> FakeAnswer:
        path = request.path.removeprefix(API).rstrip("/")
        parts = path.strip("/").split("/")
        if request.method != "GET" or not request.path.startswith(API):
            return _error(404, "rest_no_route",
                          "No route was found matching the URL and request method")
        if path == "/system_status":
            return FakeAnswer(200, {
                "environment": {"home_url": self.home_url, "site_url": self.home_url,
                                "wc_version": "9.4.2"},
                "settings": {"currency": "TRY"}})
        if path == "/orders":
            return self._list(request, self._orders(request))
        if path == "/products":
            include = {int(value) for value in request.param("include").split(",") if value}
            rows = [product for key, product in sorted(self.products.items())
                    if not include or key in include]
            return self._list(request, rows)
        if parts[0] == "orders" and len(parts) in (2, 3) and parts[1].isdigit():
            order = self.orders.get(int(parts[1]))
            if order is None:
                return _error(404, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
            if len(parts) == 2:
                return FakeAnswer(200, order)
            if parts[2] == "refunds":
                return self._list(request, self.refunds.get(order["id"], []))
        return _error(404, "rest_no_route", "No route was found matching the URL and request "
                                            "method")

    def _orders(self, request: FakeRequest) -> list[dict]:
        gmt = request.param("dates_are_gmt") in ("true", "1")
        suffix = "_gmt" if gmt else ""
        orderby = request.param("orderby", "date")
        ordered = ([self.orders[key] for key in sorted(self.orders)] if orderby == "id"
                   else list(self.orders.values()))  # the bench's 100,000 orders: ids sort fast
        rows = [order for order in ordered if order["status"] != "trash"
                or request.param("status") == "trash"]
        for name, field in (("modified_after", "date_modified"), ("after", "date_created")):
            if request.param(name):
                since = _gmt(request.param(name))
                rows = [order for order in rows
                        if dt.datetime.fromisoformat(order[field + suffix]) > since]
        descending = request.param("order", "desc") == "desc"
        if orderby == "id":
            return rows[::-1] if descending else rows
        if orderby != "date":
            return []
        return sorted(rows, key=lambda order: order["date_created_gmt"], reverse=descending)

    def _list(self, request: FakeRequest, rows: list[dict]) -> FakeAnswer:
        try:
            per_page = int(request.param("per_page", "10"))
            page = int(request.param("page", "1"))
            offset = int(request.param("offset") or (page - 1) * per_page)
        except ValueError:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        if not 1 <= per_page <= 100:
            return _error(400, "rest_invalid_param", "Invalid parameter(s): per_page")
        total = len(rows)
        pages = -(-total // per_page)
        chosen = rows[offset:offset + per_page]
        fields = [field for field in request.param("_fields").split(",") if field]
        if fields:
            chosen = [{key: row[key] for key in fields if key in row} for row in chosen]
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        if page < pages and not request.param("offset"):
            headers["Link"] = f'<{self.base_url}{request.path}?page={page + 1}>; rel="next"'
        return FakeAnswer(200, chosen, headers)
