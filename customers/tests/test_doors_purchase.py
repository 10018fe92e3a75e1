"""One purchase, every door: the admin, the contact page, the API, the import_purchases
command and the dashboard's upload each leave what customers.services.purchase_record leaves
(the purchase row, the contact's figures and stage, the coupon redeemed, the referral and its
reward, a fresh score, the event campaign's message and the webhook deliveries). A code given
later is a correction, and the admin is its one door: it must leave what purchase_update does.

Each test writes the same two purchases twice: once through the service (the reference lane)
and once through the door (its own lane of contacts), then compares the two lanes. The import
door's set-based side effects are compared in depth by test_import_parity.py; here it is one
door among the others.
"""
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import token_client
from campaigns.models import Coupon, Referral
from customers.models import Contact, Purchase
from customers.services.purchases import purchase_record, purchase_update
from customers.tests.doors import (admin_post, admin_url, assert_same, browser, browser_post,
                                  contact_snapshot, upload_csv)
from customers.tests.factories import ContactFactory
from customers.tests.test_import_parity import (  # noqa: F401 - fixtures used by name
    HEADER, _lane, _typed, deliveries_not_sent, first_purchase_campaign, fitted_run)
from webhooks.models import EventType
from webhooks.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

# On a whole minute: the contact page's field has no seconds, and every door must store the
# same instant.
AT = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=2)


def lane(tag: str) -> dict:
    """test_import_parity's lane (a referrer, a consenting buyer holding a coupon), with the
    referred newcomer already a contact: the admin and the contact page need one to exist."""
    values = _lane(tag)
    values["newcomer"] = ContactFactory(email=values["newcomer"])
    return values


def orders(values: dict) -> list[dict]:
    """The two purchases of a lane: the buyer's with its coupon, typed loosely, and the
    newcomer's first one with the referrer's code (order ids of the lane's own)."""
    tag = values["buyer"].pk
    return [
        {"contact": values["buyer"], "amount": "40.00", "code": _typed(values["coupon"].code),
         "external_id": f"{tag}-1"},
        {"contact": values["newcomer"], "amount": "25.00",
         "code": _typed(values["referral_code"]), "external_id": f"{tag}-2"},
    ]


def _local(format_: str) -> str:
    return timezone.localtime(AT).strftime(format_)


def through_service(values, users, tmp_path):
    for order in orders(values):
        purchase_record(contact=order["contact"], purchased_at=AT, amount=Decimal(order["amount"]),
                        currency="USD", channel="store", code=order["code"],
                        source="shop", external_id=order["external_id"])


def through_admin(values, users, tmp_path):
    client = browser(users["manager"])
    url = admin_url(Purchase, "add")
    for order in orders(values):
        admin_post(client, url, {
            "contact": order["contact"].pk, "purchased_at_0": _local("%Y-%m-%d"),
            "purchased_at_1": _local("%H:%M:%S"), "amount": order["amount"], "currency": "usd",
            "quantity": "1", "channel_label": "store", "code": order["code"], "source": "shop",
            "external_id": order["external_id"]})


def through_dashboard(values, users, tmp_path):
    client = browser(users["sales"])
    for order in orders(values):
        contact = order["contact"]
        response = browser_post(
            client, reverse("dashboard:contact_detail", args=[contact.pk]),
            reverse("dashboard:purchase_create", args=[contact.pk]),
            {"amount": order["amount"], "currency": "usd", "purchased_at": _local("%Y-%m-%dT%H:%M"),
             "channel": "store", "quantity": "1", "code": order["code"]})
        assert response.status_code == 302, response.content[:500]


def through_api(values, users, tmp_path):
    client = token_client(users["sales"])
    for order in orders(values):
        response = client.post(reverse("api:purchases"), {
            "contact": order["contact"].pk, "purchased_at": AT.isoformat(),
            "amount": order["amount"], "currency": "usd", "channel": "store",
            "code": order["code"], "source": "shop", "external_id": order["external_id"]},
            format="json")
        assert response.status_code == 201, response.content


def _orders_csv(values) -> str:
    return HEADER.replace("code\n", "code,channel\n") + "".join(
        f'{order["contact"].email},{AT.isoformat()},{order["amount"]},usd,'
        f'{order["external_id"]},"{order["code"]}",store\n' for order in orders(values))


def through_import(values, users, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(_orders_csv(values), encoding="utf-8")
    call_command("import_purchases", str(path), "--source", "shop", stdout=io.StringIO())


def through_upload(values, users, tmp_path):
    upload_csv(users["manager"], kind="purchases", text=_orders_csv(values), source="shop")


DOORS = {"admin": through_admin, "dashboard": through_dashboard, "api": through_api,
         "import": through_import, "upload": through_upload}


RECORDER = {"admin": "marta", "dashboard": "sally", "api": "sally", "import": None,
            "upload": "marta"}


def lane_state(values: dict) -> dict:
    """Both contacts' snapshots, and the codes' outcome named by the purchase's amount."""
    coupon = Coupon.objects.select_related("redeemed_purchase").get(pk=values["coupon"].pk)
    referral = (Referral.objects.filter(referee=values["newcomer"])
                .select_related("purchase", "reward").first())
    codes = {_typed(values["coupon"].code).strip(): "coupon as typed",
             _typed(values["referral_code"]).strip(): "referral code as typed"}
    return {
        "buyer": contact_snapshot(values["buyer"], codes),
        "newcomer": contact_snapshot(values["newcomer"], codes),
        "coupon_redeemed_by": coupon.redeemed_purchase and str(coupon.redeemed_purchase.amount),
        "coupon_redeemed_at": coupon.redeemed_at,
        "referral": referral and (referral.referrer_id == values["referrer"].pk,
                                  str(referral.purchase.amount), referral.reward is not None),
        "referrer_rewards": Coupon.objects.filter(
            contact=values["referrer"], purpose=Coupon.Purpose.REFERRAL_REWARD).count(),
        "recorded_by": sorted(Purchase.objects.filter(
            contact__in=[values["buyer"], values["newcomer"]])
            .values_list("recorded_by__username", flat=True), key=str),
    }


@pytest.mark.parametrize("door", sorted(DOORS))
def test_a_purchase_through_each_door_leaves_what_the_service_leaves(
        door, fitted_run, deliveries_not_sent, first_purchase_campaign, manager, sales_user,
        tmp_path, settings, django_capture_on_commit_callbacks):
    settings.CRM_IMPORT_DIR = tmp_path / "imports"
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED, EventType.COUPON_REDEEMED])
    users = {"manager": manager, "sales": sales_user}
    reference, through_door = lane("service"), lane(door)

    with django_capture_on_commit_callbacks(execute=True):
        through_service(reference, users, tmp_path)
    with django_capture_on_commit_callbacks(execute=True):
        DOORS[door](through_door, users, tmp_path)

    expected, got = lane_state(reference), lane_state(through_door)
    # Who recorded it names the door: nobody for the command, else the user.
    assert got.pop("recorded_by") == [RECORDER[door]] * 2
    assert expected.pop("recorded_by") == [None, None]
    assert_same(got, expected)
    # And what that state is, so that "nothing happened" on both sides cannot pass.
    buyer, newcomer = expected["buyer"], expected["newcomer"]
    assert buyer["purchases"][0][:3] == ("40.000", "USD", "40.000")
    assert buyer["purchases"][0][5:8] == ("store", 1, "coupon as typed")
    assert expected["coupon_redeemed_by"] == "40.000" and expected["coupon_redeemed_at"] == AT
    assert expected["referral"] == (True, "25.000", True)
    assert expected["referrer_rewards"] == 1
    assert (buyer["figures"]["stage"], newcomer["figures"]["stage"]) == ("one_time", "one_time")
    assert buyer["score"] is not None and newcomer["score"] is not None
    assert len(buyer["messages"]) == 1 and newcomer["messages"] == []  # no consent: no email
    assert buyer["webhooks"] == sorted([EventType.COUPON_REDEEMED, EventType.STAGE_CHANGED])
    assert newcomer["webhooks"] == [EventType.STAGE_CHANGED]
    assert Contact.objects.filter(email__startswith="newcomer-").count() == 2  # none added


# --- A code given later: the admin's change form is the one door that corrects a purchase ------

def _without_codes(values: dict) -> list[Purchase]:
    return [purchase_record(contact=order["contact"], purchased_at=AT,
                            amount=Decimal(order["amount"]), currency="USD", channel="store",
                            source="shop", external_id=order["external_id"]).purchase
            for order in orders(values)]


def test_a_code_added_in_the_admin_leaves_what_purchase_update_leaves(
        fitted_run, deliveries_not_sent, first_purchase_campaign, manager,
        django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED, EventType.COUPON_REDEEMED])
    reference, through_admin_form = lane("service"), lane("admin")
    with django_capture_on_commit_callbacks(execute=True):
        recorded = {"service": _without_codes(reference),
                    "admin": _without_codes(through_admin_form)}

    with django_capture_on_commit_callbacks(execute=True):
        for purchase, order in zip(recorded["service"], orders(reference), strict=True):
            purchase_update(purchase=purchase, code=order["code"])
    client = browser(manager)
    with django_capture_on_commit_callbacks(execute=True):
        for purchase, order in zip(recorded["admin"], orders(through_admin_form), strict=True):
            local = timezone.localtime(purchase.purchased_at)
            admin_post(client, admin_url(Purchase, "change", purchase.pk), {
                "contact": purchase.contact_id, "purchased_at_0": local.strftime("%Y-%m-%d"),
                "purchased_at_1": local.strftime("%H:%M:%S"), "amount": order["amount"],
                "currency": "USD", "quantity": "1", "channel_label": "store", "code": order["code"],
                "refund_amount": ""})

    expected, got = lane_state(reference), lane_state(through_admin_form)
    expected.pop("recorded_by"), got.pop("recorded_by")
    assert_same(got, expected)
    assert expected["coupon_redeemed_by"] == "40.000"
    assert expected["referral"] == (True, "25.000", True)
    assert expected["referrer_rewards"] == 1
    assert expected["buyer"]["purchases"][0][7] == "coupon as typed"
    assert expected["buyer"]["score"] is not None
