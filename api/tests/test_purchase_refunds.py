"""A shop reports refunds: the order's total refunded so far, so a retry changes nothing."""
import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from api.tests.helpers import token_client
from customers.models import Contact, Purchase
from customers.services.purchases import purchase_record
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/api/purchases/refund/"


@pytest.fixture
def shop():
    """The shop's integration user: sales role, plus the right to change purchases."""
    user = SalesStaffFactory(username="shop")
    user.user_permissions.add(Permission.objects.get(codename="change_purchase"))
    return token_client(user)


@pytest.fixture
def order():
    contact = ContactFactory(email="ann@example.com")
    purchase_record(contact=contact, purchased_at=timezone.now() - dt.timedelta(days=40),
                    amount=Decimal("20"), currency="USD", source="shop", external_id="A-0")
    return purchase_record(contact=contact, purchased_at=timezone.now() - dt.timedelta(days=2),
                           amount=Decimal("80.00"), currency="USD", source="shop",
                           external_id="A-1").purchase


def _refund(client, total: str, **more):
    return client.post(URL, {"source": "shop", "external_id": "A-1", "refunded_amount": total,
                             **more}, format="json")


def test_a_partial_refund_and_its_retry_take_effect_once(shop, order):
    first, retry = _refund(shop, "30.00"), _refund(shop, "30.00")

    assert (first.status_code, retry.status_code) == (200, 200)
    assert first.json()["refunded_amount"] == retry.json()["refunded_amount"] == "30.000"
    assert first.json()["refunded_at"] is None
    assert Contact.objects.get().total_spent == Decimal("70.00")


def test_refunds_grow_to_a_full_refund(shop, order):
    _refund(shop, "30.00")
    response = _refund(shop, "80.00")

    assert response.json()["refunded_at"] is not None
    contact = Contact.objects.get()
    assert (contact.purchase_count, contact.total_spent) == (1, Decimal("20.00"))


@pytest.mark.parametrize(("total", "field", "message"), [
    ("80.01", "refunded_amount", "At most $80.00 of this purchase can still be refunded."),
    ("10.001", "refunded_amount", "USD amounts have at most 2 decimal places."),
    ("-1", "refunded_amount", "Amount cannot be negative"),
    (5, "refunded_amount", "Send the amount as a decimal string"),
])
def test_bad_totals_get_a_400_and_change_nothing(shop, order, total, field, message):
    response = _refund(shop, total)

    assert response.status_code == 400
    assert message in " ".join(response.json()[field])
    assert Purchase.objects.get(pk=order.pk).refunded_amount == 0


def test_a_refund_cannot_be_taken_back(shop, order):
    _refund(shop, "30.00")

    response = _refund(shop, "10.00")

    assert response.status_code == 400
    assert "$30.00 of this purchase is refunded already" in response.json()["refunded_amount"][0]
    assert Purchase.objects.get(pk=order.pk).refunded_amount == Decimal("30")


def test_an_unknown_order_is_404_and_unknown_fields_400(shop, order):
    assert _refund(shop, "1.00", external_id="nope").status_code == 404
    assert _refund(shop, "1.00", amount="1.00").status_code == 400


def test_sales_staff_alone_may_not_refund(sales_api, order):
    assert _refund(sales_api, "10.00").status_code == 403
    assert Purchase.objects.get(pk=order.pk).refunded_amount == 0


@pytest.fixture
def order_with_lines():
    contact = ContactFactory(email="bob@example.com")
    return purchase_record(
        contact=contact, purchased_at=timezone.now() - dt.timedelta(days=2), currency="USD", amount=None,
        source="shop", external_id="L-1", lines=[
            {"sku": "TEA", "name": "Green tea", "category": "Tea", "quantity": "3",
             "unit_price": "10.00"},
            {"sku": "MUG", "name": "Mug", "category": "Kitchen", "quantity": "1",
             "unit_price": "5.00"}]).purchase


def _line_ids(purchase):
    return dict(purchase.lines.values_list("product__sku", "pk"))


def _refund_lines(client, lines, **more):
    return client.post(URL, {"source": "shop", "external_id": "L-1", "lines": lines, **more},
                       format="json")


def test_lines_refunded_so_far_refund_their_worth_once(shop, order_with_lines):
    ids = _line_ids(order_with_lines)
    body = [{"line": ids["TEA"], "refunded_quantity": "1"}]

    first, retry = _refund_lines(shop, body), _refund_lines(shop, body)

    assert (first.status_code, retry.status_code) == (200, 200), first.json()
    assert first.json() == retry.json()
    assert first.json()["refunded_amount"] == "10.000"
    assert {line["sku"]: line["refunded_quantity"] for line in first.json()["lines"]} == {
        "TEA": "1.000", "MUG": "0.000"}
    assert Contact.objects.get(email="bob@example.com").total_spent == Decimal("25.00")


def test_every_line_refunded_is_a_full_refund(shop, order_with_lines):
    ids = _line_ids(order_with_lines)
    _refund_lines(shop, [{"line": ids["TEA"], "refunded_quantity": "1"}])

    response = _refund_lines(shop, [{"line": ids["TEA"], "refunded_quantity": 3},
                                    {"line": ids["MUG"], "refunded_quantity": "1"}])

    assert response.status_code == 200, response.json()
    assert response.json()["refunded_at"] is not None
    assert response.json()["refunded_amount"] == "35.000"


def test_lines_with_a_total_take_the_total(shop, order_with_lines):
    ids = _line_ids(order_with_lines)

    response = _refund_lines(shop, [{"line": ids["MUG"], "refunded_quantity": "1"}],
                             refunded_amount="4.00")

    assert response.status_code == 200, response.json()
    assert response.json()["refunded_amount"] == "4.000"
    assert [line["refunded_quantity"] for line in response.json()["lines"]
            if line["sku"] == "MUG"] == ["1.000"]


def test_bad_lines_name_the_line_and_change_nothing(shop, order, order_with_lines):
    ids = _line_ids(order_with_lines)
    other = purchase_record(
        contact=order.contact, purchased_at=timezone.now() - dt.timedelta(days=1),
        currency="USD", amount=None, source="shop", external_id="L-2",
        lines=[{"sku": "X", "name": "Other", "quantity": "1", "unit_price": "1.00"}]).purchase
    other_line = other.lines.get().pk
    _refund_lines(shop, [{"line": ids["TEA"], "refunded_quantity": "2"}])
    cases = [
        ([{"line": other_line, "refunded_quantity": "1"}],
         f"Line {other_line} is not a line of this purchase."),
        ([{"line": ids["MUG"], "refunded_quantity": "2"}],
         f"Line {ids['MUG']} (Mug): only 1 were bought."),
        ([{"line": ids["TEA"], "refunded_quantity": "1"}],
         f"Line {ids['TEA']} (Green tea): 2 refunded already; a refund cannot be taken back."),
        ([{"line": ids["MUG"], "refunded_quantity": "-1"}],
         f"Line {ids['MUG']} (Mug): give the quantity refunded so far as a number"),
        ([{"line": ids["MUG"], "refunded_quantity": "lots"}],
         f"Line {ids['MUG']} (Mug): give the quantity refunded so far as a number"),
        ([{"line": ids["MUG"], "refunded_quantity": "١"}],  # Arabic-Indic one
         f"Line {ids['MUG']} (Mug): give the quantity refunded so far as a number"),
        ([{"line": ids["MUG"], "refunded_quantity": "NaN"}],
         f"Line {ids['MUG']} (Mug): give the quantity refunded so far as a number"),
        ([{"line": ids["MUG"], "refunded_quantity": "1"},
          {"line": ids["MUG"], "refunded_quantity": "1"}], "Give each line once."),
    ]
    for lines, message in cases:
        response = _refund_lines(shop, lines)

        assert response.status_code == 400, lines
        assert message in " ".join(map(str, response.json()["lines"])), response.json()
    order_with_lines.refresh_from_db()
    assert order_with_lines.refunded_amount == Decimal("20")
    assert dict(order_with_lines.lines.values_list("product__sku", "refunded_quantity")) == {
        "TEA": Decimal("2"), "MUG": Decimal("0")}


def test_zero_lines_and_no_total_is_refused(shop, order_with_lines):
    response = _refund_lines(shop, [])

    assert response.status_code == 400
    assert "Give the total refunded so far, or the lines" in response.json()["refunded_amount"][0]


def test_the_schema_documents_refunds_by_line(sales_api):
    schema = sales_api.get("/api/schema/?format=json").json()

    body = schema["components"]["schemas"]["PurchaseRefundRequest"]
    assert "lines" in body["properties"] and body.get("required") == ["external_id"]
    line = schema["components"]["schemas"]["LineRefundRequest"]
    assert set(line["properties"]) == {"line", "refunded_quantity"}
    assert set(line["required"]) == {"line", "refunded_quantity"}
