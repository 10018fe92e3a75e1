"""Which events are emitted from where: purchases (stage), the daily at-risk check, coupons."""
import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.coupons import CodeOutcome, coupon_create
from campaigns.triggers import detect_at_risk_task
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase
from webhooks.models import EventType, WebhookDelivery
from webhooks.services import event_emit

from .factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _payloads(event_type: str) -> list[dict]:
    return [d.payload for d in WebhookDelivery.objects.filter(event_type=event_type)
            .order_by("pk")]


# --- contact.stage_changed --------------------------------------------------------------------

def test_a_first_purchase_emits_one_stage_change_with_old_and_new_stage():
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    contact = ContactFactory(email="ayse@example.com")

    purchase_record(contact=contact, purchased_at=timezone.now(), amount=Decimal("12.50"),
                    currency="USD")

    [payload] = _payloads(EventType.STAGE_CHANGED)
    assert payload["type"] == "contact.stage_changed"
    assert payload["data"] == {"contact_id": contact.pk, "email": "ayse@example.com",
                               "stage": "one_time", "old_stage": "prospect",
                               "new_stage": "one_time"}
    assert WebhookDelivery.objects.get().contact_id == contact.pk


def test_a_purchase_that_keeps_the_stage_emits_nothing():
    contact = ContactFactory()
    record_purchase(contact, days_ago=3)
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])

    record_purchase(contact, days_ago=3)  # same day: still one transaction, still one-time

    assert WebhookDelivery.objects.count() == 0


def test_a_refund_that_lowers_the_stage_emits_it():
    contact = ContactFactory()
    record_purchase(contact, days_ago=10)
    second = record_purchase(contact, days_ago=1)
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])

    purchase_refund(purchase=second)

    [payload] = _payloads(EventType.STAGE_CHANGED)
    assert (payload["data"]["old_stage"], payload["data"]["new_stage"]) == ("repeat", "one_time")


def test_each_subscribed_endpoint_gets_the_event_under_one_event_id():
    first = WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    second = WebhookEndpointFactory(events=list(EventType.values))
    WebhookEndpointFactory(events=[EventType.AT_RISK])  # not subscribed

    record_purchase(ContactFactory())

    rows = list(WebhookDelivery.objects.values_list("endpoint_id", "event_id"))
    assert sorted(endpoint_id for endpoint_id, _event in rows) == [first.pk, second.pk]
    assert len({event_id for _endpoint, event_id in rows}) == 1


def test_nothing_is_read_or_stored_when_no_endpoint_subscribes(django_assert_num_queries):
    WebhookEndpointFactory(events=[EventType.AT_RISK])
    contacts = [ContactFactory() for _ in range(3)]
    from customers.stats import contacts_refresh_stats

    # One query for the subscribers, one UPDATE: no reads of the stages before and after.
    with django_assert_num_queries(2):
        contacts_refresh_stats([contact.pk for contact in contacts])

    assert WebhookDelivery.objects.count() == 0


def test_inactive_endpoints_get_nothing():
    WebhookEndpointFactory(events=list(EventType.values), is_active=False)

    record_purchase(ContactFactory())
    assert event_emit(EventType.AT_RISK, [(1, {"contact_id": 1})]) == 0

    assert WebhookDelivery.objects.count() == 0


def test_an_emitted_event_is_sent_once_the_transaction_commits(
        receiver, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(url=receiver.url, events=[EventType.STAGE_CHANGED])

    with django_capture_on_commit_callbacks(execute=True):
        record_purchase(ContactFactory())

    [request] = receiver.requests
    assert json.loads(request.body)["data"]["new_stage"] == "one_time"
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.DELIVERED


def test_a_purchase_import_announces_new_and_existing_buyers(tmp_path):
    """Both import paths (PostgreSQL's set-based one and the plain one) emit like the others."""
    from customers.imports.purchases import purchases_import_csv

    known = ContactFactory(email="known@example.com")
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    path = tmp_path / "orders.csv"
    path.write_text("email,purchased_at,amount,currency,external_id\n"
                    "new@example.com,2025-03-01,10,USD,A-1\n"
                    "new@example.com,2025-04-01,10,USD,A-2\n"
                    "known@example.com,2025-03-05,10,USD,A-3\n", encoding="utf-8")

    purchases_import_csv(file=path)

    changes = {payload["data"]["email"]: (payload["data"]["old_stage"],
                                          payload["data"]["new_stage"])
               for payload in _payloads(EventType.STAGE_CHANGED)}
    assert changes == {"new@example.com": ("prospect", "repeat"),
                       "known@example.com": ("prospect", "one_time")}
    assert WebhookDelivery.objects.get(payload__data__email="known@example.com"
                                       ).contact_id == known.pk


# --- contact.at_risk --------------------------------------------------------------------------

def _fallen_at_risk(settings, email: str):
    """A repeat client whose last purchase crossed the at-risk line within the last day."""
    contact = ContactFactory(email=email)
    record_purchase(contact, days_ago=settings.CRM_AT_RISK_MIN_DAYS + 40)
    record_purchase(contact, days_ago=settings.CRM_AT_RISK_MIN_DAYS + 0.5)
    return contact


def test_the_daily_at_risk_check_emits_for_contacts_newly_at_risk(settings):
    fallen = _fallen_at_risk(settings, "fallen@example.com")
    long_gone = ContactFactory()
    record_purchase(long_gone, days_ago=settings.CRM_AT_RISK_MIN_DAYS + 60)
    record_purchase(long_gone, days_ago=settings.CRM_AT_RISK_MIN_DAYS + 5)  # at risk for days
    WebhookEndpointFactory(events=[EventType.AT_RISK])

    detect_at_risk_task()

    [payload] = _payloads(EventType.AT_RISK)
    fallen.refresh_from_db()
    assert payload["data"] == {"contact_id": fallen.pk, "email": "fallen@example.com",
                               "stage": "repeat",
                               "last_purchase_at": fallen.last_purchase_at.isoformat()}


def test_running_the_at_risk_check_twice_emits_once(settings):
    _fallen_at_risk(settings, "fallen@example.com")
    WebhookEndpointFactory(events=[EventType.AT_RISK])

    detect_at_risk_task()
    detect_at_risk_task()

    assert WebhookDelivery.objects.count() == 1


def test_the_at_risk_check_emits_nothing_without_subscribers(settings):
    _fallen_at_risk(settings, "fallen@example.com")
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED, EventType.COUPON_REDEEMED])
    WebhookDelivery.objects.all().delete()

    detect_at_risk_task()

    assert WebhookDelivery.objects.count() == 0


# --- coupon.redeemed --------------------------------------------------------------------------

def _coupon(contact):
    return coupon_create(contact=contact, kind="amount", value=Decimal("5"), currency="USD",
                         expires_at=timezone.now() + dt.timedelta(days=30))


def test_redeeming_a_coupon_emits_it_with_the_purchase():
    contact = ContactFactory(email="kupon@example.com")
    coupon = _coupon(contact)
    WebhookEndpointFactory(events=[EventType.COUPON_REDEEMED])

    result = purchase_record(contact=contact, purchased_at=timezone.now(),
                             amount=Decimal("40.00"), currency="USD", source="shop",
                             external_id="ORD-1001", code=coupon.code.lower())

    assert result.code_outcome == CodeOutcome.REDEEMED
    [payload] = _payloads(EventType.COUPON_REDEEMED)
    assert payload["data"] == {"contact_id": contact.pk, "email": "kupon@example.com",
                               "coupon_code": coupon.code, "purchase_external_id": "ORD-1001",
                               "amount": "40.000", "currency": "USD"}


def test_a_coupon_that_is_not_redeemed_emits_nothing():
    owner, other = ContactFactory(), ContactFactory()
    coupon = _coupon(owner)
    WebhookEndpointFactory(events=[EventType.COUPON_REDEEMED])

    result = record_purchase(other, code=coupon.code)

    assert result.contact_id == other.pk
    assert WebhookDelivery.objects.count() == 0


def test_no_endpoint_at_all_is_remembered_briefly_and_no_query_is_made(django_assert_num_queries):
    from customers.stats import contacts_refresh_stats

    contact = ContactFactory()
    contacts_refresh_stats([contact.pk])  # learns that nobody subscribes

    with django_assert_num_queries(1):  # the UPDATE only
        contacts_refresh_stats([contact.pk])


def test_an_endpoint_removed_by_another_process_gets_nothing():
    from django.db import connection

    endpoint = WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    record_purchase(ContactFactory())
    assert WebhookDelivery.objects.count() == 1
    WebhookDelivery.objects.all().delete()
    with connection.cursor() as cursor:  # no signal reaches this process
        cursor.execute("DELETE FROM webhooks_webhookendpoint WHERE id = %s", [endpoint.pk])

    record_purchase(ContactFactory())

    assert WebhookDelivery.objects.count() == 0
