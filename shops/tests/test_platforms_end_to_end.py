"""Issue #20's "Done when", per real platform: a backfill, then the same orders as signed
webhooks through the real door, then a poll, each against the platform's own local fake API
and recorded payloads, yield each paid order as one purchase with its lines, its products once
in the store's catalogue, its refund applied once, the cancelled order not counted and the
guest a contact by email. A delivery sent twice and an older update delivered late change
nothing."""
import copy
import datetime as dt
import json
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import Contact, Product, Purchase, PurchaseLine
from shops.models import ShopOrder, Store, SyncJob, WebhookDelivery
from shops.services.deliveries import delivery_process
from shops.tests.fakes import ideasoft as idea_fake
from shops.tests.fakes import shopify as shopify_fake
from shops.tests.fakes import woocommerce as woo_fake
from shops.tests.helpers import run_job

pytestmark = pytest.mark.django_db

SECRET = "whsec-end-to-end"
ISTANBUL = ZoneInfo("Europe/Istanbul")
NOW = timezone.now().replace(microsecond=0)


def ago(days: float, minutes: int = 0) -> dt.datetime:
    return NOW - dt.timedelta(days=days) + dt.timedelta(minutes=minutes)


def wsgi(headers: dict[str, str]) -> dict[str, str]:
    return {"HTTP_" + name.upper().replace("-", "_"): value
            for name, value in headers.items() if name != "Content-Type"}


def money(value) -> Decimal:
    return Decimal(str(value or 0))


# --- one class per platform: its fake, its payloads, its webhooks ------------------------------

class Woo:
    key = "woocommerce"

    def __init__(self) -> None:
        self.api = woo_fake.FakeWooAPI()
        self.count = 0

    def store(self) -> Store:
        store = Store(platform=self.key, name="Kahve Dükkanı", key="kahve",
                      base_url=self.api.base_url)
        store.set_credentials({"consumer_key": self.api.consumer_key,
                               "consumer_secret": self.api.consumer_secret})
        store.set_webhook_secret(SECRET)
        store.save()
        return store

    @staticmethod
    def _gmt(moment: dt.datetime) -> str:
        return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat()

    def orders(self) -> dict[str, dict]:
        api, at = self.api, self._gmt
        return {
            "paid1": api.add_order(1301, email="ali@example.com", created=at(ago(5, 1))),
            "paid2": api.add_order(1302, email="veli@example.com", created=at(ago(5, 2))),
            "paid3": api.add_order(1303, email="can@example.com", status="completed",
                                   created=at(ago(5, 3))),
            "guest": api.add_order(1208, source="order_guest.json", created=at(ago(5, 4))),
            # the recorded order 1207 keeps its refund (1310, 108.00) and /refunds
            "refunded": api.add_order(1207, created=at(ago(5, 5)), modified=at(ago(2))),
            "cancelled": api.add_order(1305, email="iptal@example.com", status="cancelled",
                                       created=at(ago(5, 6))),
        }

    def deliveries(self, raw: dict) -> list[tuple[dict[str, str], bytes]]:
        self.count += 1
        return [woo_fake.delivery(raw, "order.updated", secret=SECRET,
                                  delivery_id=f"delivery-{self.count}")]

    def older(self, raw: dict) -> tuple[dict[str, str], bytes]:
        stale = copy.deepcopy(raw)
        stale["status"] = "cancelled"
        stale["date_modified_gmt"] = stale["date_modified"] = self._gmt(ago(30))
        return woo_fake.delivery(stale, "order.updated", secret=SECRET, delivery_id="stale-1")

    @staticmethod
    def lines(raw: dict) -> list[tuple[str, Decimal]]:
        # no SKU: the variation's id (what was bought), else the product's
        return [(line["sku"] or str(line["variation_id"] or line["product_id"]),
                 money(line["quantity"])) for line in raw["line_items"]]

    @staticmethod
    def goods(raw: dict) -> Decimal:
        return sum((money(line["total"]) + money(line["total_tax"])
                    for line in raw["line_items"]), Decimal(0))

    @staticmethod
    def email(raw: dict) -> str:
        return raw["billing"]["email"]


class Shopify:
    key = "shopify"

    def __init__(self) -> None:
        self.api = shopify_fake.FakeShopify()

    def store(self) -> Store:
        store = Store(platform=self.key, name="Anadolu Lezzetleri", key="anadolu",
                      base_url=self.api.base_url)
        store.set_credentials({"access_token": self.api.token, "api_secret_key": SECRET})
        store.set_webhook_secret(SECRET)
        store.save()
        return store

    def orders(self) -> dict[str, dict]:
        api = self.api

        def at(moment: dt.datetime) -> str:
            return moment.isoformat()

        return {
            "paid1": api.add_order(id=1001, email="ali@example.com", created_at=at(ago(5, 1))),
            "paid2": api.add_order(id=1002, email="veli@example.com",
                                   created_at=at(ago(5, 2))),
            "paid3": api.add_order(id=1003, email="can@example.com", created_at=at(ago(5, 3))),
            "guest": api.add_order("order_tax_excluded_guest", id=1004,
                                   created_at=at(ago(5, 4))),
            "refunded": api.add_order("orders_updated_refunded", id=1005,
                                      email="iade@example.com", created_at=at(ago(5, 5)),
                                      updated_at=at(ago(2))),
            "cancelled": api.add_order("orders_cancelled", id=1006, email="iptal@example.com",
                                       created_at=at(ago(5, 6)), cancelled_at=at(ago(4))),
        }

    def deliveries(self, raw: dict) -> list[tuple[dict[str, str], bytes]]:
        out = []
        for topic in ("orders/create", "orders/updated"):
            body = json.dumps(raw).encode()
            out.append((shopify_fake.webhook_headers(body, topic=topic, secret=SECRET), body))
        for refund in raw.get("refunds") or []:
            body = json.dumps(refund).encode()
            out.append((shopify_fake.webhook_headers(body, topic="refunds/create",
                                                     secret=SECRET), body))
        return out

    def older(self, raw: dict) -> tuple[dict[str, str], bytes]:
        stale = copy.deepcopy(raw)
        stale.update(cancelled_at=ago(30).isoformat(), financial_status="voided",
                     updated_at=ago(30).isoformat())
        body = json.dumps(stale).encode()
        return shopify_fake.webhook_headers(body, topic="orders/updated", secret=SECRET), body

    @staticmethod
    def lines(raw: dict) -> list[tuple[str, Decimal]]:
        return [(line["sku"] or str(line["product_id"]), money(line["quantity"]))
                for line in raw["line_items"] if not line.get("gift_card")]

    @staticmethod
    def goods(raw: dict) -> Decimal:
        total = Decimal(0)
        for line in raw["line_items"]:
            if line.get("gift_card"):
                continue
            discount = sum((money(item["amount"]) for item in
                            line.get("discount_allocations") or []), Decimal(0))
            total += money(line["price"]) * money(line["quantity"]) - discount
            if not raw["taxes_included"]:
                total += sum((money(tax["price"]) for tax in line.get("tax_lines") or []),
                             Decimal(0))
        return total

    @staticmethod
    def email(raw: dict) -> str:
        return raw.get("email") or raw.get("contact_email") or raw["customer"]["email"]


class IdeaSoft:
    key = "ideasoft"

    def __init__(self) -> None:
        self.api = idea_fake.FakeIdeaSoftAPI()

    def store(self) -> Store:
        store = Store(platform=self.key, name="Lokumcu", key="lokumcu",
                      base_url=self.api.base_url)
        store.set_credentials(self.api.credentials)
        store.set_webhook_secret(SECRET)
        store.save()
        return store

    @staticmethod
    def _at(moment: dt.datetime) -> str:
        return moment.astimezone(ISTANBUL).strftime("%Y-%m-%dT%H:%M:%S%z")

    def orders(self) -> dict[str, dict]:
        api, at = self.api, self._at
        orders = {
            "paid1": api.add_order(1301, email="ali@example.com", created_at=at(ago(5, 1))),
            "paid2": api.add_order(1302, email="veli@example.com", created_at=at(ago(5, 2))),
            "paid3": api.add_order(1303, email="can@example.com", created_at=at(ago(5, 3))),
            "guest": api.add_order(1304, email="misafir@example.com",
                                   created_at=at(ago(5, 4))),
            "refunded": api.add_order(1305, email="iade@example.com",
                                      created_at=at(ago(5, 5))),
            "cancelled": api.add_order(1306, email="iptal@example.com", status="cancelled",
                                       created_at=at(ago(5, 6))),
        }
        # One kahve of the two returned, approved two days ago (the poll and a fetch read it)
        api.add_refund_request(1305, 501, items=((1305 * 10 + 1, 1),),
                               updated_at=at(ago(2)))
        return orders

    def deliveries(self, raw: dict) -> list[tuple[dict[str, str], bytes]]:
        out = [idea_fake.delivery(raw, secret=SECRET)]  # order/create: no topic header
        if raw["id"] == 1305:  # order/update: only what changed, the order fetched
            out.append(idea_fake.delivery({"id": raw["id"], "status": raw["status"],
                                           "updatedAt": self._at(ago(2))}, secret=SECRET))
        return out

    def older(self, raw: dict) -> tuple[dict[str, str], bytes]:
        stale = copy.deepcopy(raw)
        stale.update(status="cancelled", updatedAt=self._at(ago(30)))
        return idea_fake.delivery(stale, secret=SECRET)

    @staticmethod
    def lines(raw: dict) -> list[tuple[str, Decimal]]:
        return [(item["productSku"] or str(item["product"]["id"]),
                 money(item["productQuantity"])) for item in raw["orderItems"]]

    @staticmethod
    def goods(raw: dict) -> Decimal:
        return (money(raw["generalAmount"]) - money(raw["shippingAmount"])
                - money(raw["additionalServiceAmount"]))

    @staticmethod
    def email(raw: dict) -> str:
        return raw["customerEmail"]


PLATFORMS = {"woocommerce": Woo, "shopify": Shopify, "ideasoft": IdeaSoft}


@pytest.fixture(params=sorted(PLATFORMS))
def shop(request):
    platform = PLATFORMS[request.param]()
    platform.api.start()
    yield platform
    platform.api.stop()


def post(client: Client, store: Store, headers: dict[str, str], body: bytes,
         capture) -> int:
    with capture(execute=True):
        response = client.post(f"/shops/webhooks/{store.webhook_token}/", data=body,
                               content_type="application/json", **wsgi(headers))
    for pk in WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.RECEIVED).values_list("pk", flat=True):
        delivery_process(pk)
    return response.status_code


def snapshot(store: Store) -> dict:
    purchases = {}
    for purchase in Purchase.objects.filter(source=store.source).order_by("external_id"):
        purchases[purchase.external_id] = (
            purchase.amount, purchase.refunded_amount, purchase.refunded_at, purchase.contact_id,
            sorted(PurchaseLine.objects.filter(purchase=purchase).values_list(
                "product__sku", "quantity", "refunded_quantity", "unit_price", "discount")))
    return {"purchases": purchases, "contacts": Contact.objects.count(),
            "products": sorted(Product.objects.filter(store=store.key)
                               .values_list("sku", flat=True))}


def test_backfill_webhooks_and_poll_of_the_same_orders_give_each_purchase_once(
        shop, django_capture_on_commit_callbacks):
    store = shop.store()
    raw = shop.orders()
    # The poll looks back far enough to see the orders put in the fake days ago.
    Store.objects.filter(pk=store.pk).update(poll_watermark=ago(10))
    client = Client(enforce_csrf_checks=True)

    backfill = run_job(store, SyncJob.Kind.BACKFILL)
    assert backfill.status == SyncJob.Status.DONE, backfill.error
    after_backfill = snapshot(store)
    assert len(after_backfill["purchases"]) == 5

    sent = {name: shop.deliveries(raw[name]) for name in raw}
    for name in ("paid1", "paid2", "paid3", "guest", "refunded", "cancelled"):
        for headers, body in sent[name]:
            assert post(client, store, headers, body, django_capture_on_commit_callbacks) == 200
    # The refund came with the webhooks already (IdeaSoft: its order/update names only the
    # order's id and what changed, and the order is fetched with its refund requests).
    refunded_id = str(raw["refunded"]["id"])
    assert Purchase.objects.get(source=store.source, external_id=refunded_id).refunded_amount > 0
    store.refresh_from_db()
    poll = run_job(store, SyncJob.Kind.POLL)
    assert poll.status == SyncJob.Status.DONE, poll.error

    # Every delivery processed (Shopify's refund of shipping alone is ignored: no goods).
    statuses = list(WebhookDelivery.objects.values_list("topic", "status", "error"))
    assert {(topic, status) for topic, status, _error in statuses} <= {
        (topic, WebhookDelivery.Status.PROCESSED) for topic, _status, _error in statuses} | {
        ("refunds/create", WebhookDelivery.Status.IGNORED)}, statuses
    paid = {name: order for name, order in raw.items() if name != "cancelled"}
    purchases = Purchase.objects.filter(source=store.source)
    assert purchases.count() == len(paid)
    skus = set()
    for name, order in paid.items():
        purchase = purchases.get(external_id=str(order["id"]))  # exactly one
        lines = list(purchase.lines.select_related("product").order_by("pk"))
        assert sorted((line.product.sku, line.quantity) for line in lines) == sorted(
            shop.lines(order)), name
        assert len(lines) >= 1
        line_total = sum((line.unit_price * line.quantity - line.discount for line in lines),
                         Decimal(0))
        assert purchase.amount == line_total == shop.goods(order), name  # shipping left out
        assert purchase.contact.email == shop.email(order).lower(), name
        skus |= {line.product.sku for line in lines}
    assert all(len(shop.lines(order)) >= 2 for name, order in paid.items() if name != "guest")

    # Products once in the store's catalogue.
    catalogue = list(Product.objects.filter(store=store.key).values_list("sku", flat=True))
    assert sorted(catalogue) == sorted(skus)

    # The refund applied once; the others untouched.
    refunded = purchases.get(external_id=str(raw["refunded"]["id"]))
    assert refunded.refunded_amount > 0
    assert refunded.refunded_at is None  # a part, not the whole
    shop_order = ShopOrder.objects.get(store=store, order_id=str(raw["refunded"]["id"]))
    assert len(shop_order.refund_ids) == len(set(shop_order.refund_ids)) >= 1
    assert not purchases.exclude(pk=refunded.pk).filter(refunded_amount__gt=0).exists()

    # The cancelled order: no purchase, its row says so.
    cancelled = ShopOrder.objects.get(store=store, order_id=str(raw["cancelled"]["id"]))
    assert cancelled.state == ShopOrder.State.CANCELLED and cancelled.purchase_id is None

    # The guest: a contact by email.
    assert Contact.objects.filter(email=shop.email(raw["guest"]).lower()).exists()

    settled = snapshot(store)

    # The same delivery again: one stored delivery, nothing changed.
    deliveries = WebhookDelivery.objects.count()
    headers, body = sent["refunded"][-1]
    assert post(client, store, headers, body, django_capture_on_commit_callbacks) == 200
    assert WebhookDelivery.objects.count() == deliveries
    assert snapshot(store) == settled

    # An older update delivered late (cancelled a month ago): nothing changed.
    assert post(client, store, *shop.older(raw["paid1"]),
                capture=django_capture_on_commit_callbacks) == 200
    assert snapshot(store) == settled

    # A second poll and a second backfill change nothing either.
    assert run_job(store, SyncJob.Kind.POLL).status == SyncJob.Status.DONE
    assert run_job(store, SyncJob.Kind.BACKFILL).status == SyncJob.Status.DONE
    assert snapshot(store) == settled
