"""A local fake of IdeaSoft's Admin API (shops.platforms.ideasoft): orders, members and
products in memory, answered as IdeaSoft documents them (JSON arrays; `limit` at most 100,
`page`, `sinceId`, `sort=id`/`-id`, `startCreatedAt`, `ids`; the `total_count` header), and the
OAuth token endpoint: a bearer access token that can expire (401) and be renewed once with
the refresh token (each refresh token works once, as IdeaSoft's do).

`orders` (id -> order JSON) is open to tests; `add_order(...)` adds one built from the
recorded order/create payload with changes (id, email, status, payment status, dates), so the
engine's rule tests can run over this platform too.
"""
import copy
import datetime as dt
import itertools
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from shops.platforms.ideasoft import read_time, sign
from crm.tests.fake_http import FakeAnswer, FakeRequest, FakeHTTPAPI

PAYLOADS = Path(__file__).resolve().parent.parent / "payloads" / "ideasoft"


def payload(name: str) -> Any:
    """A recorded IdeaSoft payload (shops/tests/payloads/ideasoft/<name>.json), parsed."""
    return json.loads((PAYLOADS / f"{name}.json").read_text(encoding="utf-8"))


def payload_bytes(name: str) -> bytes:
    return (PAYLOADS / f"{name}.json").read_bytes()


def delivery(data: Any, *, secret: str, topic: str = "") -> tuple[dict[str, str], bytes]:
    """(headers, body) of a webhook delivery as IdeaSoft sends it: the JSON body signed with
    the app's client secret. IdeaSoft documents no topic header: `topic` adds one
    (X-Ideashop-Topic) only when a test asks for it."""
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json", "X-Ideashop-Hmac-Sha256": sign(secret, body)}
    if topic:
        headers["X-Ideashop-Topic"] = topic
    return headers, body


class FakeIdeaSoftAPI(FakeHTTPAPI):
    """Start with `with FakeIdeaSoftAPI() as api:`; a store's credentials: `api.credentials`."""

    def __init__(self, *, client_id: str = "client-1", client_secret: str = "secret-1") -> None:
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self._serial = itertools.count(1)
        self.access_token = "access-0"
        self.refresh_token = "refresh-0"
        self.refresh_refused = False
        self.authorization_code = "code-from-redirect"
        self.token_requests: list[dict[str, str]] = []
        self.orders: dict[int, dict] = {}
        self.members: dict[int, dict] = {}
        self.products: dict[int, dict] = {
            product["id"]: product for product in payload("products")}
        self.refund_requests: dict[int, dict] = {}
        self.send_total_header = True

    @property
    def credentials(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret,
                "access_token": self.access_token, "refresh_token": self.refresh_token}

    # --- what tests do -----------------------------------------------------------------------

    def expire_access_token(self) -> None:
        """The access token in use expires: API calls with it answer 401 until renewed."""
        self.access_token = f"access-{next(self._serial)}-unissued"

    def refuse_refresh(self) -> None:
        """The refresh token is no longer accepted (expired or revoked)."""
        self.refresh_refused = True

    def add_order(self, order_id: int | None = None, *, email: str | None = None,
                  status: str | None = None, payment_status: str | None = None,
                  created_at: str | None = None, updated_at: str | None = None,
                  base: str = "order_create", **changes: Any) -> dict:
        """An order built from a recorded payload (`base`) with changes; stored and returned.
        Line ids follow the order id so that orders do not share them."""
        order = copy.deepcopy(payload(base))
        order_id = order_id or (max(self.orders, default=1200) + 1)
        order["id"] = order_id
        for number, item in enumerate(order.get("orderItems") or (), start=1):
            item["id"] = order_id * 10 + number
        if email is not None:
            order["customerEmail"] = email
            if isinstance(order.get("member"), dict):
                order["member"]["email"] = email
        if status is not None:
            order["status"] = status
        if payment_status is not None:
            order["paymentStatus"] = payment_status
        if created_at is not None:
            order["createdAt"] = created_at
            order.setdefault("updatedAt", created_at)
        if updated_at is not None:
            order["updatedAt"] = updated_at
        elif created_at is not None:
            order["updatedAt"] = created_at
        order.update(changes)
        self.orders[order_id] = order
        return order

    def add_orders(self, count: int, *, start: int = 1, **changes: Any) -> list[dict]:
        return [self.add_order(order_id, **changes) for order_id in range(start, start + count)]

    def add_refund_request(self, order_id: int, request_id: int | None = None, *,
                           status: str = "approved", items: tuple[tuple[int, float], ...] = (),
                           fee: float | None = None, updated_at: str = "",
                           **changes: Any) -> dict:
        """A refund request on an order (from the recorded one): `items` (order item id,
        quantity)."""
        request = copy.deepcopy(payload("order_refund_requests")[0])
        request_id = request_id or (max(self.refund_requests, default=300) + 1)
        request.update(id=request_id, status=status, order={"id": order_id})
        if items:
            request["refundRequestItems"] = [
                {"id": request_id * 10 + number, "orderItem": {"id": item_id}, "amount": quantity}
                for number, (item_id, quantity) in enumerate(items, start=1)]
        if fee is not None:
            request["fee"] = fee
        if updated_at:
            request["updatedAt"] = updated_at
        request.update(changes)
        self.refund_requests[request_id] = request
        return request

    def add_member(self, member_id: int | None = None, **changes: Any) -> dict:
        member = copy.deepcopy(payload("member_create"))
        member["id"] = member_id or (max(self.members, default=41) + 1)
        member.update(changes)
        self.members[member["id"]] = member
        return member

    # --- the fake server ---------------------------------------------------------------------

    def authorised(self, request: FakeRequest) -> bool:
        if request.path == "/oauth/v2/token":
            return True
        return request.header("Authorization") == f"Bearer {self.access_token}"

    def auth_refused(self, request: FakeRequest) -> FakeAnswer:
        return FakeAnswer(401, payload("token_expired"))

    def handle(self, request: FakeRequest) -> FakeAnswer:
        path = request.path.rstrip("/")
        if path == "/oauth/v2/token" and request.method == "POST":
            return self._token(request)
        if path == "/admin-api/orders":
            return self._list(request, self.orders, created_filter=True)
        if path == "/admin-api/orders/count":
            return FakeAnswer(200, {"count": len(self.orders)})
        if path.startswith("/admin-api/orders/"):
            return self._one(self.orders, path)
        if path == "/admin-api/members":
            return self._list(request, self.members)
        if path.startswith("/admin-api/members/"):
            return self._one(self.members, path)
        if path == "/admin-api/products":
            return self._list(request, self.products)
        if path == "/admin-api/order_refund_requests":
            return self._list(request, self.refund_requests)
        return FakeAnswer(404, {"errorMessage": "No route found"})

    def _token(self, request: FakeRequest) -> FakeAnswer:
        form = {key: values[0] for key, values in parse_qs(request.body.decode()).items()}
        self.token_requests.append(form)
        if form.get("client_id") != self.client_id or (
                form.get("client_secret") != self.client_secret):
            return FakeAnswer(400, {"error": "invalid_client",
                                    "error_description": "The client credentials are invalid"})
        if form.get("grant_type") == "authorization_code":
            if form.get("code") != self.authorization_code or not form.get("redirect_uri"):
                return FakeAnswer(400, {"error": "invalid_grant",
                                        "error_description": "Code doesn't exist or is invalid "
                                                             "for the client"})
        elif (form.get("grant_type") != "refresh_token" or self.refresh_refused
                or form.get("refresh_token") != self.refresh_token):
            return FakeAnswer(400, payload("token_refused"))
        serial = next(self._serial)
        self.access_token, self.refresh_token = f"access-{serial}", f"refresh-{serial}"
        return FakeAnswer(200, {"access_token": self.access_token, "expires_in": 86400,
                                "token_type": "bearer", "scope": None,
                                "refresh_token": self.refresh_token})

    def _one(self, objects: dict[int, dict], path: str) -> FakeAnswer:
        key = path.rsplit("/", 1)[1]
        found = objects.get(int(key)) if key.isdigit() else None
        if found is None:
            return FakeAnswer(404, {"errorMessage": "Kayıt bulunamadı."})
        return FakeAnswer(200, found)

    def _list(self, request: FakeRequest, objects: dict[int, dict], *,
              created_filter: bool = False) -> FakeAnswer:
        limit = int(request.param("limit", "20") or 20)
        if not 1 <= limit <= 100:
            return FakeAnswer(400, {"errorMessage": "limit must be between 1 and 100"})
        page = max(int(request.param("page", "1") or 1), 1)
        since_id = int(request.param("sinceId", "0") or 0)
        ids = {int(value) for value in request.param("ids").split(",") if value.strip()}
        chosen = [item for key, item in sorted(objects.items())
                  if key > since_id and (not ids or key in ids)]
        for name in ("status", "order"):  # the refund requests' filters
            wanted = request.param(name)
            if wanted and objects is self.refund_requests:
                chosen = [item for item in chosen if str(
                    item[name]["id"] if name == "order" else item[name]) == wanted]
        start_created = request.param("startCreatedAt")
        if created_filter and start_created:
            first_day = dt.date.fromisoformat(start_created)
            chosen = [item for item in chosen
                      if read_time(item["createdAt"]).date() >= first_day]
        if request.param("sort") == "-id":
            chosen.reverse()
        answer = chosen[(page - 1) * limit: page * limit]
        headers = {"total_count": str(len(chosen))} if self.send_total_header else {}
        return FakeAnswer(200, answer, headers)
