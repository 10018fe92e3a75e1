"""Deliveries naming only an id: the order or customer fetched from the platform.

IdeaSoft's order/update and member/update carry only the fields that changed; WooCommerce's
order.deleted sends only {"id": N}; Shopify's consent topic may come without an address.
IdeaSoft sends no topic header: the door takes an empty topic and the body says the kind."""
import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from customers.models import Contact, Purchase
from shops.models import ShopOrder, Store, WebhookDelivery
from shops.tests.fakes import ideasoft as idea_fake
from shops.tests.fakes import shopify as shopify_fake
from shops.tests.fakes import woocommerce as woo_fake
from shops.tests.helpers import deliver, run_job

pytestmark = pytest.mark.django_db

SECRET = "whsec-fetch"
Status = WebhookDelivery.Status


def store_for(platform: str, api, credentials: dict[str, str]) -> Store:
    store = Store(platform=platform, name=platform.title(), key=f"{platform[:4]}1",
                  base_url=api.base_url)
    store.set_credentials(credentials)
    store.set_webhook_secret(SECRET)
    store.save()
    return store


@pytest.fixture
def woo():
    with woo_fake.FakeWooAPI() as api:
        api.store = store_for("woocommerce", api, {"consumer_key": api.consumer_key,
                                                   "consumer_secret": api.consumer_secret})
        yield api


@pytest.fixture
def idea():
    with idea_fake.FakeIdeaSoftAPI() as api:
        api.store = store_for("ideasoft", api, api.credentials)
        yield api


def recent(days: float) -> str:
    moment = timezone.now() - dt.timedelta(days=days)
    return moment.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")


def woo_recorded(api, order_id: int = 1301) -> Purchase:
    api.add_order(order_id, email="ali@example.com", created=recent(3))
    assert run_job(api.store, "backfill").status == "done"
    return Purchase.objects.get(source=api.store.source, external_id=str(order_id))


# --- ORDER events without the order -------------------------------------------------------------

def test_woocommerce_order_deleted_to_the_trash_is_fetched_and_cancels_the_purchase(woo):
    purchase = woo_recorded(woo)
    woo.orders[1301]["status"] = "trash"
    woo.orders[1301]["date_modified_gmt"] = recent(1)

    delivery = deliver(woo.store, *woo_fake.delivery({"id": 1301}, "order.deleted",
                                                     secret=SECRET))

    assert delivery.status == Status.PROCESSED, delivery.error
    purchase.refresh_from_db()
    assert purchase.refunded_at is not None and purchase.refunded_amount == purchase.amount
    assert ShopOrder.objects.get(order_id="1301").state == ShopOrder.State.CANCELLED


def test_woocommerce_order_deleted_for_good_is_cancelled_and_refunded_in_full(woo):
    purchase = woo_recorded(woo)
    del woo.orders[1301]  # the API answers 404

    delivery = deliver(woo.store, *woo_fake.delivery({"id": 1301}, "order.deleted",
                                                     secret=SECRET))

    assert delivery.status == Status.PROCESSED, delivery.error
    purchase.refresh_from_db()
    assert purchase.refunded_at is not None and purchase.refunded_amount == purchase.amount
    assert ShopOrder.objects.get(order_id="1301").state == ShopOrder.State.CANCELLED
    # Delivered again (another delivery id): refunded once.
    again = deliver(woo.store, *woo_fake.delivery({"id": 1301}, "order.deleted",
                                                  secret=SECRET, delivery_id="again"))
    assert again.status == Status.PROCESSED
    purchase.refresh_from_db()
    assert purchase.refunded_amount == purchase.amount


def test_an_order_deleted_for_good_never_seen_is_ignored_with_the_reason(woo):
    delivery = deliver(woo.store, *woo_fake.delivery({"id": 999}, "order.deleted",
                                                     secret=SECRET))

    assert delivery.status == Status.IGNORED
    assert "never recorded" in delivery.error
    assert not ShopOrder.objects.exists()


def test_a_failed_fetch_leaves_the_delivery_to_be_tried_again(woo):
    purchase = woo_recorded(woo)
    woo.orders[1301]["status"] = "cancelled"
    woo.expire_credentials()  # 401: ConnectorError(AUTH)

    delivery = deliver(woo.store, *woo_fake.delivery({"id": 1301}, "order.deleted",
                                                     secret=SECRET))

    assert delivery.status == Status.RECEIVED
    assert "not fetched" in delivery.error
    purchase.refresh_from_db()
    assert purchase.refunded_at is None


def test_ideasoft_order_update_with_only_the_changes_fetches_the_order(idea):
    idea.add_order(1301, email="ali@example.com",
                   created_at=(timezone.now() - dt.timedelta(days=3)).isoformat())
    assert run_job(idea.store, "backfill").status == "done"
    purchase = Purchase.objects.get(source=idea.store.source, external_id="1301")
    changed = (timezone.now() - dt.timedelta(days=1)).isoformat()
    idea.orders[1301].update(status="cancelled", updatedAt=changed)

    delivery = deliver(idea.store, *idea_fake.delivery(
        {"id": 1301, "status": "cancelled", "updatedAt": changed}, secret=SECRET))

    assert delivery.status == Status.PROCESSED, delivery.error
    assert delivery.topic == ""
    purchase.refresh_from_db()
    assert purchase.refunded_at is not None


def test_ideasoft_order_update_of_an_order_not_seen_records_it(idea):
    idea.add_order(1302, email="veli@example.com")

    delivery = deliver(idea.store, *idea_fake.delivery(
        {"id": 1302, "status": "approved", "updatedAt": "2026-11-03T09:00:00+0300"},
        secret=SECRET))

    assert delivery.status == Status.PROCESSED, delivery.error
    purchase = Purchase.objects.get(source=idea.store.source, external_id="1302")
    assert purchase.contact.email == "veli@example.com"
    assert purchase.lines.count() == 3


# --- CUSTOMER events without an email ------------------------------------------------------------

def test_ideasoft_member_update_without_email_fetches_the_member(idea):
    idea.add_member(42)

    delivery = deliver(idea.store, *idea_fake.delivery(idea_fake.payload("member_update"),
                                                       secret=SECRET))

    assert delivery.status == Status.PROCESSED, delivery.error
    contact = Contact.objects.get(email="ayse@example.com")
    assert (contact.first_name, contact.last_name) == ("Ayşe", "Yılmaz")


def test_ideasoft_member_update_of_a_member_the_store_does_not_know_is_ignored(idea):
    delivery = deliver(idea.store, *idea_fake.delivery(idea_fake.payload("member_update"),
                                                       secret=SECRET))

    assert delivery.status == Status.IGNORED
    assert "only by the store's id" in delivery.error
    assert not Contact.objects.exists()


def test_ideasoft_member_fetch_failing_is_tried_again(idea):
    idea.add_member(42)
    idea.expire_access_token()
    idea.refuse_refresh()

    delivery = deliver(idea.store, *idea_fake.delivery(idea_fake.payload("member_update"),
                                                       secret=SECRET))

    assert delivery.status == Status.RECEIVED
    assert "not fetched" in delivery.error


def test_shopify_consent_update_without_an_address_is_ignored_with_the_reason():
    with shopify_fake.FakeShopify() as api:
        store = store_for("shopify", api, {"access_token": api.token,
                                           "api_secret_key": SECRET})
        data = shopify_fake.payload("customers_email_marketing_consent_update")
        data["email_address"] = None
        body = json.dumps(data).encode()
        headers = shopify_fake.webhook_headers(
            body, topic="customers/email_marketing_consent/update", secret=SECRET)

        delivery = deliver(store, headers, body)

    assert delivery.status == Status.IGNORED
    assert "only by the store's id" in delivery.error
    assert not Contact.objects.exists()


# --- IdeaSoft through the door: no topic header ----------------------------------------------------

def test_ideasoft_delivery_without_a_topic_header_goes_through_the_door(
        idea, django_capture_on_commit_callbacks):
    order = idea.add_order(1303, email="can@example.com")
    headers, body = idea_fake.delivery(order, secret=SECRET)
    assert not any("topic" in name.lower() for name in headers)

    with django_capture_on_commit_callbacks(execute=True):
        response = Client(enforce_csrf_checks=True).post(
            f"/shops/webhooks/{idea.store.webhook_token}/", data=body,
            content_type="application/json",
            HTTP_X_IDEASHOP_HMAC_SHA256=headers["X-Ideashop-Hmac-Sha256"])

    assert response.status_code == 200
    delivery = WebhookDelivery.objects.get()
    assert (delivery.topic, delivery.status) == ("", Status.PROCESSED), delivery.error
    assert Purchase.objects.filter(source=idea.store.source, external_id="1303").exists()


def test_order_ingest_is_unchanged_for_a_full_order(idea):
    """A full order in the delivery is applied as before (no fetch)."""
    order = idea.add_order(1304, email="full@example.com")
    idea.orders.clear()  # a fetch would find nothing

    delivery = deliver(idea.store, *idea_fake.delivery(order, secret=SECRET))

    assert delivery.status == Status.PROCESSED
    assert Purchase.objects.filter(external_id="1304").exists()
