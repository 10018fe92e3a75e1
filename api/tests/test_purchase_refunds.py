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
