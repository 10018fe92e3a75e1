"""Refunds of order lines, every door: the purchase admin's form ("Refund products") and the
API's POST /api/purchases/refund/ (each line's quantity refunded so far) leave what
customers.services.refunds.purchase_refund(lines=...) leaves: the purchase's refunded amount,
each line's refunded quantity, the contact's figures and stage, a fresh score, the webhook
deliveries. The dashboard offers no refund. Bad quantities are refused naming the line, and
change nothing."""
import datetime as dt
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from api.tests.helpers import token_client
from customers.models import Purchase, PurchaseLine
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.tests.doors import admin_post, admin_url, assert_same, browser, contact_snapshot
from customers.tests.factories import ContactFactory
from customers.tests.test_import_parity import deliveries_not_sent, fitted_run  # noqa: F401 - fixtures used by name
from webhooks.models import EventType
from webhooks.tests.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db

AT = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(days=3)
LINES = [{"sku": "TEA", "name": "Green tea", "category": "Tea", "quantity": "3",
          "unit_price": "10.00"},
         {"sku": "MUG", "name": "Mug", "category": "Kitchen", "quantity": "1",
          "unit_price": "5.00", "discount": "1.00"}]
# What each case refunds: {sku: quantity}, one step after the other.
CASES = {"one line in part": [{"TEA": "1"}],
         "two lines, twice": [{"TEA": "1", "MUG": "1"}, {"TEA": "2"}]}


def lane(tag: str) -> dict:
    contact = ContactFactory(email=f"{tag}@example.com")
    purchase_record(contact=contact, purchased_at=AT - dt.timedelta(days=90),
                    amount=Decimal("12.00"), currency="USD")
    purchase = purchase_record(contact=contact, purchased_at=AT, amount=None, currency="USD",
                               source="shop", external_id=f"{tag}-1", lines=LINES).purchase
    return {"contact": contact, "purchase": purchase}


def _ids(purchase) -> dict[str, int]:
    return dict(PurchaseLine.objects.filter(purchase=purchase)
                .values_list("product__sku", "pk"))


def through_service(values, step):
    ids = _ids(values["purchase"])
    purchase_refund(purchase=values["purchase"],
                    lines={ids[sku]: Decimal(quantity) for sku, quantity in step.items()})


def _admin_data(purchase: Purchase) -> dict:
    local = timezone.localtime(purchase.purchased_at)
    return {"contact": purchase.contact_id, "purchased_at_0": local.strftime("%Y-%m-%d"),
            "purchased_at_1": local.strftime("%H:%M:%S"), "amount": str(purchase.amount),
            "currency": purchase.currency, "quantity": purchase.quantity,
            "channel_label": purchase.channel_label, "code": purchase.code}


def through_admin_form(values, step, users):
    purchase = Purchase.objects.get(pk=values["purchase"].pk)
    ids = _ids(purchase)
    admin_post(browser(users["manager"]), admin_url(Purchase, "change", purchase.pk), {
        **_admin_data(purchase),
        **{f"refund_lines_{ids[sku]}": quantity for sku, quantity in step.items()}})


def through_api(values, step, users):
    purchase = Purchase.objects.get(pk=values["purchase"].pk)
    so_far = {line.pk: line.refunded_quantity for line in purchase.lines.all()}
    ids = _ids(purchase)
    if "api" not in users:  # one token per user
        users["api"] = token_client(users["manager"])
    response = users["api"].post(reverse("api:purchase_refund"), {
        "source": purchase.source, "external_id": purchase.external_id,
        "lines": [{"line": ids[sku], "refunded_quantity": str(so_far[ids[sku]] + Decimal(q))}
                  for sku, q in step.items()]}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


DOORS = {"admin form": through_admin_form, "api": through_api}


def lane_state(values: dict) -> dict:
    return {"contact": contact_snapshot(values["contact"]),
            "lines": sorted(PurchaseLine.objects.filter(purchase=values["purchase"])
                            .values_list("product__sku", "refunded_quantity"))}


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("door", DOORS)
def test_a_line_refund_through_each_door_leaves_what_the_service_leaves(
        door, case, fitted_run, deliveries_not_sent, manager,
        django_capture_on_commit_callbacks):
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])
    with django_capture_on_commit_callbacks(execute=True):
        reference, through_door = lane("service"), lane(door.replace(" ", "-"))

    users = {"manager": manager}
    for step in CASES[case]:
        with django_capture_on_commit_callbacks(execute=True):
            through_service(reference, step)
        with django_capture_on_commit_callbacks(execute=True):
            DOORS[door](through_door, step, users)

    expected = lane_state(reference)
    assert_same(lane_state(through_door), expected)
    refunded = {purchase.external_id: purchase for purchase in Purchase.objects.filter(
        external_id__in=["service-1", f"{door.replace(' ', '-')}-1"])}
    assert len({(p.refunded_amount, p.refunded_at is not None)
                for p in refunded.values()}) == 1
    if case == "one line in part":
        assert expected["lines"] == [("MUG", Decimal("0")), ("TEA", Decimal("1"))]
        assert refunded["service-1"].refunded_amount == Decimal("10")
        assert refunded["service-1"].refunded_at is None
    else:  # every product back: a full refund, the purchase stops counting
        assert expected["lines"] == [("MUG", Decimal("1")), ("TEA", Decimal("3"))]
        assert refunded["service-1"].refunded_amount == Decimal("34")
        assert refunded["service-1"].refunded_at is not None
        assert expected["contact"]["figures"]["purchase_count"] == 1


def test_the_admin_refuses_bad_quantities_naming_the_line(manager):
    values = lane("admin")
    purchase, ids = values["purchase"], _ids(values["purchase"])
    client = browser(manager)
    url = admin_url(Purchase, "change", purchase.pk)
    page = client.get(url)
    assert b'data-testid="refund-lines"' in page.content
    assert b'data-testid="refund-line-TEA"' in page.content
    for typed, message in (("4", "Green tea: at most 3 can still be refunded."),
                           ("0", "Green tea: give a quantity to refund above zero."),
                           ("-1", "Green tea: give a quantity to refund above zero."),
                           ("two", "Green tea: give a quantity to refund above zero.")):
        response = client.post(url, {**_admin_data(purchase), f"refund_lines_{ids['TEA']}": typed,
                                     "csrfmiddlewaretoken": client.cookies["csrftoken"].value})

        assert response.status_code == 200, typed
        assert message in response.content.decode(), typed
    purchase.refresh_from_db()
    assert purchase.refunded_amount == 0
    assert set(purchase.lines.values_list("refunded_quantity", flat=True)) == {Decimal(0)}


def test_the_admin_page_shows_the_refunded_quantities(manager):
    values = lane("shown")
    through_service(values, {"MUG": "1"})

    page = browser(manager).get(admin_url(Purchase, "change", values["purchase"].pk))

    table = page.content.decode().split('data-testid="purchase-lines"')[1].split("</table>")[0]
    assert "<td>Mug</td><td>1</td>" in table and table.count("<td>1</td></tr>") == 1


def test_the_contact_page_shows_the_refunded_quantities(manager):
    values = lane("page")
    through_service(values, {"TEA": "2"})

    page = browser(manager).get(reverse("dashboard:contact_detail", args=[values["contact"].pk]))

    assert page.status_code == 200
    lines = [part.split("</div>")[0] for part in
             page.content.decode().split('data-testid="purchase-line">')[1:]]
    tea = next(line for line in lines if "Green tea" in line)
    assert "2 refunded" in tea
    assert not any("refunded" in line for line in lines if "Mug" in line)
