"""A local fake of Shopify's REST Admin API (the endpoints shops.platforms.shopify uses).

As documented (shopify.dev, REST Admin API: orders, products, shop, pagination):
- every path under /admin/api/<API_VERSION>/; another version answers 404;
- the token in X-Shopify-Access-Token, else 401 `{"errors": "[API] Invalid API key or access
  token (unrecognized login or wrong password)"}`;
- `orders.json`: `status` (open by default: not closed nor cancelled; `any`), `limit` (at most
  250, else 400), `since_id`, `updated_at_min`; ordered by id; cursor pagination through the
  `Link` header (`<...page_info=...>; rel="next"`, `rel="previous"`), the page_info an opaque
  token carrying the filters; with `page_info` only `limit` and `fields` may be sent (else 400);
- `orders/count.json`, `orders/<id>.json` (404 when unknown), `products.json?ids=&fields=`,
  `shop.json`; the `X-Shopify-Shop-Api-Call-Limit` header on every answer.

Orders are kept as Shopify's REST order JSON, from the recorded payloads
(shops/tests/payloads/shopify/): `add_order(...)` copies one with changes.
"""
import base64
import copy
import datetime as dt
import json
import pathlib
import uuid
from typing import Any

from shops.platforms.shopify import API_VERSION, sign
from crm.tests.fake_http import FakeAnswer, FakeRequest, FakeHTTPAPI

PAYLOADS = pathlib.Path(__file__).resolve().parent.parent / "payloads" / "shopify"
PREFIX = f"/admin/api/{API_VERSION}/"
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


def payload(name: str) -> dict:
    """A recorded payload (shops/tests/payloads/shopify/<name>, ".json" optional)."""
    name = name if name.endswith(".json") else f"{name}.json"
    return json.loads((PAYLOADS / name).read_text())


def webhook_headers(body: bytes, *, topic: str, secret: str, webhook_id: str = "",
                    triggered_at: str = "2026-11-02T07:04:12.123Z") -> dict[str, str]:
    """The headers Shopify sends with a delivery of `body` (signed with `secret`)."""
    return {"Content-Type": "application/json", "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": sign(secret, body),
            "X-Shopify-Shop-Domain": "anadolu-lezzetleri.myshopify.com",
            "X-Shopify-API-Version": API_VERSION,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Event-Id": str(uuid.uuid4()), "X-Shopify-Triggered-At": triggered_at}


def _time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


class FakeShopify(FakeHTTPAPI):
    """`api.orders` ({id: REST order}), `api.products` ({id: REST product}), `api.token`."""

    def __init__(self, token: str = "shpat_good", name: str = "Anadolu Lezzetleri") -> None:
        super().__init__()
        self.token = token
        self.shop = payload("shop")["shop"]
        self.shop["name"] = name
        self.orders: dict[int, dict] = {}
        self.customers: dict[int, dict] = {}
        self.products: dict[int, dict] = {
            product["id"]: product for product in payload("products")["products"]}

    # --- test helpers ------------------------------------------------------------------

    def add_order(self, source: str | dict = "order_tax_included", *, id: int | None = None,
                  email: str | None = None, financial_status: str | None = None,
                  created_at: str | None = None, updated_at: str | None = None,
                  **changes: Any) -> dict:
        """Add an order copied from a recorded payload (or a dict) with changes: a new `id`
        (its line item and refund ids made unique too, id x 10 + n and id x 100 + n,
        and the refunds' line ids following), the buyer's `email` (order, contact and
        customer), `financial_status`, `created_at` (also processed_at), `updated_at`, and
        any other top-level field (`cancelled_at=...`, `customer=None`, `refunds=[...]`)."""
        order = copy.deepcopy(payload(source) if isinstance(source, str) else source)
        if id is not None:
            order["id"] = id
            order["admin_graphql_api_id"] = f"gid://shopify/Order/{id}"
            order["name"] = f"#{id}"
            new_line_ids = {}
            for index, line in enumerate(order.get("line_items") or []):
                new_line_ids[line["id"]] = line["id"] = id * 10 + index + 1
            for index, refund in enumerate(order.get("refunds") or []):
                refund["order_id"] = id
                refund["id"] = id * 100 + index + 1
                for item in refund.get("refund_line_items") or []:
                    item["line_item_id"] = new_line_ids.get(item["line_item_id"],
                                                            item["line_item_id"])
                    if item.get("line_item"):
                        item["line_item"]["id"] = item["line_item_id"]
        if email is not None:
            order["email"] = order["contact_email"] = email
            if order.get("customer"):
                order["customer"]["email"] = email
        if financial_status is not None:
            order["financial_status"] = financial_status
        if created_at is not None:
            order["created_at"] = order["processed_at"] = created_at
            order["updated_at"] = updated_at or created_at
        if updated_at is not None:
            order["updated_at"] = updated_at
        order.update(changes)
        self.orders[order["id"]] = order
        return order

    def add_orders(self, count: int, *, first_id: int = 1000,
                   start: str = "2026-01-01T09:00:00+03:00") -> list[dict]:
        """`count` paid orders a minute apart, ids from `first_id`, each its own buyer."""
        moment = _time(start)
        return [self.add_order(id=first_id + n, email=f"musteri{first_id + n}@example.com",
                               created_at=(moment + dt.timedelta(minutes=n)).isoformat())
                for n in range(count)]

    # --- the API -------------------------------------------------------------------------

    def authorised(self, request: FakeRequest) -> bool:
        return request.header("X-Shopify-Access-Token") == self.token

    def auth_refused(self, request: FakeRequest) -> FakeAnswer:
        return FakeAnswer(401, {"errors": INVALID_TOKEN})

    def handle(self, request: FakeRequest) -> FakeAnswer:
        answer = self._route(request)
        answer.headers.setdefault("X-Shopify-Shop-Api-Call-Limit", "1/40")
        return answer

    def _route(self, request: FakeRequest) -> FakeAnswer:
        if request.method != "GET" or not request.path.startswith(PREFIX):
            return FakeAnswer(404, {"errors": "Not Found"})
        path = request.path[len(PREFIX):]
        if path == "shop.json":
            return FakeAnswer(200, {"shop": self.shop})
        if path == "orders.json":
            return self._orders(request)
        if path == "orders/count.json":
            return FakeAnswer(200, {"count": len(self._filtered(
                request.param("status", "open"), None, 0))})
        if path.startswith("orders/") and path.endswith(".json"):
            order = self.orders.get(_int(path[len("orders/"):-len(".json")]))
            return FakeAnswer(200, {"order": order}) if order else FakeAnswer(
                404, {"errors": "Not Found"})
        if path.startswith("customers/") and path.endswith(".json"):
            customer = self.customers.get(_int(path[len("customers/"):-len(".json")]))
            return FakeAnswer(200, {"customer": customer}) if customer else FakeAnswer(
                404, {"errors": "Not Found"})
        if path == "products.json":
            ids = [_int(value) for value in request.param("ids").split(",") if value]
            fields = [name for name in request.param("fields").split(",") if name]
            chosen = [self.products[key] for key in sorted(ids) if key in self.products]
            if fields:
                chosen = [{name: product.get(name) for name in fields} for product in chosen]
            return FakeAnswer(200, {"products": chosen})
        return FakeAnswer(404, {"errors": "Not Found"})

    def _orders(self, request: FakeRequest) -> FakeAnswer:
        limit = _int(request.param("limit", "50"))
        if not 1 <= limit <= 250:
            return FakeAnswer(400, {"errors": {"limit": "Limit must be between 1 and 250"}})
        token = request.param("page_info")
        if token:
            extra = set(request.query) - {"page_info", "limit", "fields"}
            if extra:
                return FakeAnswer(400, {"errors": {"page_info": (
                    f"Parameters {sorted(extra)} cannot be passed with page_info")}})
            try:
                state = json.loads(base64.urlsafe_b64decode(token.encode()))
            except ValueError:
                return FakeAnswer(400, {"errors": {"page_info": "Invalid value."}})
            status, since = state["status"], state["updated_at_min"]
            backwards = state["direction"] == "previous"
            after = 0 if backwards else state["last_id"]
        else:
            status = request.param("status", "open")
            since = request.param("updated_at_min") or None
            after, backwards = _int(request.param("since_id", "0")), False
        chosen = self._filtered(status, since, after)
        if backwards:  # the page before the one that started at last_id
            chosen = [order for order in chosen if order["id"] < state["last_id"]]
            page = chosen[-limit:]
        else:
            page = chosen[:limit]
        headers = {}
        links = []
        if page and page[-1]["id"] != chosen[-1]["id"] or backwards and page:
            links.append(self._link(limit, status, since, page[-1]["id"], "next"))
        if token and page and (backwards and page[0]["id"] != chosen[0]["id"] or not backwards):
            links.append(self._link(limit, status, since, page[0]["id"], "previous"))
        if links:
            headers["Link"] = ", ".join(links)
        return FakeAnswer(200, {"orders": page}, headers)

    def _filtered(self, status: str, since: str | None, after: int) -> list[dict]:
        moment = _time(since) if since else None
        chosen = []
        for key in sorted(self.orders):
            order = self.orders[key]
            if key <= after:
                continue
            if status == "open" and (order.get("cancelled_at") or order.get("closed_at")):
                continue
            if status == "closed" and not order.get("closed_at"):
                continue
            if status == "cancelled" and not order.get("cancelled_at"):
                continue
            if moment and _time(order["updated_at"]) < moment:
                continue
            chosen.append(order)
        return chosen

    def _link(self, limit: int, status: str, since: str | None, last_id: int, rel: str) -> str:
        token = base64.urlsafe_b64encode(json.dumps(
            {"status": status, "updated_at_min": since, "last_id": last_id,
             "direction": rel}).encode()).decode()
        return f'<{self.base_url}{PREFIX}orders.json?limit={limit}&page_info={token}>; rel="{rel}"'


def _int(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        return -1
