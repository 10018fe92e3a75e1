"""One refund, every door: the purchase admin's form and its bulk action, and the API's
POST /api/purchases/refund/ each leave what customers.services.purchase_refund leaves (the
refunded amounts, the contact's figures and stage, the referral reward withdrawn on a full
refund, a fresh score, the webhook deliveries). The dashboard and the imports offer no refund.

Each test refunds the same referred first purchase in two lanes, through the service and
through the door, and compares them.
"""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import token_client
from campaigns.models import Coupon, Referral
from campaigns.referrals import referral_code_for
from customers.models import Purchase
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.tests.doors import (admin_post, admin_url, assert_same, browser, browser_post,
                                   contact_snapshot)
from customers.tests.factories import ContactFactory
from customers.tests.test_import_parity import deliveries_not_sent, fitted_run  # noqa: F401 - fixtures used by name
from webhooks.models import EventType
from webhooks.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=3)
PARTIAL = Decimal("10.00")


def lane(tag: str) -> dict:
    """A referrer, and a newcomer whose first purchase (25.00, with the referrer's code)
    earned the referrer a reward: the purchase the lane refunds."""
    referrer = ContactFactory(email=f"referrer-{tag}@example.com")
    purchase_record(contact=referrer, purchased_at=AT - dt.timedelta(days=100),
                    amount=Decimal("10.00"), currency="USD")
    newcomer = ContactFactory(email=f"newcomer-{tag}@example.com")
    purchase = purchase_record(
        contact=newcomer, purchased_at=AT, amount=Decimal("25.00"), currency="USD",
        source="shop", external_id=f"{tag}-1", code=referral_code_for(referrer).code).purchase
    return {"referrer": referrer, "newcomer": newcomer, "purchase": purchase}


def through_admin_form(values, amount, users):
    purchase = Purchase.objects.get(pk=values["purchase"].pk)
    local = timezone.localtime(purchase.purchased_at)
    admin_post(browser(users["manager"]), admin_url(Purchase, "change", purchase.pk), {
        "contact": purchase.contact_id, "purchased_at_0": local.strftime("%Y-%m-%d"),
        "purchased_at_1": local.strftime("%H:%M:%S"), "amount": str(purchase.amount),
        "currency": purchase.currency, "quantity": purchase.quantity,
        "channel_label": purchase.channel_label, "code": purchase.code,
        "refund_amount": str(amount or purchase.amount)})


def through_admin_action(values, amount, users):
    assert amount is None, "the bulk action refunds in full only"
    url = admin_url(Purchase, "changelist")
    response = browser_post(browser(users["manager"]), url, url, {
        "action": "refund", "_selected_action": [values["purchase"].pk], "index": "0"})
    assert response.status_code == 302


def through_api(values, amount, users):
    purchase = values["purchase"]
    response = token_client(users["manager"]).post(reverse("api:purchase_refund"), {
        "source": purchase.source, "external_id": purchase.external_id,
        "refunded_amount": str(amount or purchase.amount)}, format="json")
    assert response.status_code == 200, response.content


DOORS = {"admin form": through_admin_form, "admin action": through_admin_action,
         "api": through_api}
CASES = [(door, kind) for door in DOORS for kind in ("full", "partial")
         if (door, kind) != ("admin action", "partial")]


def lane_state(values: dict) -> dict:
    reward = (Referral.objects.filter(referee=values["newcomer"]).select_related("reward")
              .get().reward)
    return {
        "newcomer": contact_snapshot(values["newcomer"], {values["purchase"].code: "referral"}),
        "referrer": contact_snapshot(values["referrer"]),
        "reward_withdrawn": reward.expires_at <= timezone.now(),
        "rewards": Coupon.objects.filter(contact=values["referrer"],
                                         purpose=Coupon.Purpose.REFERRAL_REWARD).count(),
    }


@pytest.mark.parametrize(("door", "kind"), CASES)
def test_a_refund_through_each_door_leaves_what_the_service_leaves(
        door, kind, fitted_run, deliveries_not_sent, manager, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    amount = PARTIAL if kind == "partial" else None
    with django_capture_on_commit_callbacks(execute=True):
        reference, through_door = lane("service"), lane(door.replace(" ", "-"))
    score_before = contact_snapshot(reference["newcomer"])["score"]

    with django_capture_on_commit_callbacks(execute=True):
        purchase_refund(purchase=reference["purchase"], amount=amount)
    with django_capture_on_commit_callbacks(execute=True):
        DOORS[door](through_door, amount, {"manager": manager})

    expected = lane_state(reference)
    assert_same(lane_state(through_door), expected)
    # And what that state is.
    newcomer = expected["newcomer"]
    (row,) = newcomer["purchases"]
    if kind == "full":
        assert row[8:] == ("25.000", "25.000", True)
        assert newcomer["figures"]["purchase_count"] == 0
        assert newcomer["figures"]["stage"] != "one_time"
        assert expected["reward_withdrawn"] is True
        # Re-scored after the refund: with no purchase counting, no score (as never bought).
        assert score_before is not None and newcomer["score"] is None
        assert newcomer["webhooks"] == [EventType.STAGE_CHANGED] * 2  # became, stopped being
    else:
        assert row[8:] == ("10.000", "10.000", False)
        assert newcomer["figures"]["purchase_count"] == 1
        assert newcomer["figures"]["total_spent"] == Decimal("15.000")
        assert expected["reward_withdrawn"] is False
        assert newcomer["webhooks"] == [EventType.STAGE_CHANGED]
        assert newcomer["score"] is not None
    assert expected["rewards"] == 1
