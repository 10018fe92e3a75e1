"""Every bad purchase is a 400 naming the field, and nothing is stored: no purchase, no contact."""
import datetime as dt

import pytest
from django.utils import timezone

from customers.models import Contact, Purchase

pytestmark = pytest.mark.django_db


def _order(**changes) -> dict:
    order = {"email": "ann@example.com", "purchased_at": "2024-05-31T14:30:00+03:00",
             "amount": "19.90", "currency": "USD", "source": "shop", "external_id": "order-1"}
    order.update(changes)
    return {key: value for key, value in order.items() if value is not ...}


FUTURE = (timezone.now() + dt.timedelta(days=3)).isoformat()

BAD_ORDERS = {
    "amount as a JSON number": (_order(amount=19.9), "amount"),
    "amount not a number": (_order(amount="abc"), "amount"),
    "amount with a comma": (_order(amount="1,234.50"), "amount"),
    "negative amount": (_order(amount="-5.00"), "amount"),
    "too many decimals": (_order(amount="19.999"), "amount"),
    "too many decimals for JPY": (_order(amount="100.5", currency="JPY"), "amount"),
    "infinite amount": (_order(amount="Infinity"), "amount"),
    "huge amount": (_order(amount="1e20"), "amount"),
    "unknown currency": (_order(currency="XYZ"), "currency"),
    "currency as a number": (_order(currency=978), "currency"),
    "unknown currency code": (_order(currency="TLX"), "currency"),
    "naive date-time": (_order(purchased_at="2024-05-31T14:30:00"), "purchased_at"),
    "not a date": (_order(purchased_at="31/05/2024"), "purchased_at"),
    "date as a number": (_order(purchased_at=20240531), "purchased_at"),
    "future beyond tolerance": (_order(purchased_at=FUTURE), "purchased_at"),
    "before 1970": (_order(purchased_at="1969-12-31T00:00:00Z"), "purchased_at"),
    "invalid email": (_order(email="ann@"), "email"),
    "neither contact nor email": (_order(email=...), "contact"),
    "unknown contact id": ({**_order(email=...), "contact": 999}, "contact"),
    "channel label too long": (_order(channel="w" * 500), "channel"),
    "zero quantity": (_order(quantity=0), "quantity"),
    "quantity as text": (_order(quantity="two"), "quantity"),
    "external id too long": (_order(external_id="x" * 129), "external_id"),
    "source too long": (_order(source="s" * 33), "source"),
    "unknown field": (_order(ammount="19.90"), "ammount"),
    "read-only field": (_order(amount_base="19.90"), "amount_base"),
    "missing amount": (_order(amount=...), "amount"),
    "missing date": (_order(purchased_at=...), "purchased_at"),
}


@pytest.mark.parametrize("payload, field", BAD_ORDERS.values(), ids=BAD_ORDERS.keys())
def test_bad_purchase_is_a_400_and_stores_nothing(sales_api, payload, field):
    response = sales_api.post("/api/purchases/", payload, format="json")

    assert response.status_code == 400, response.json()
    assert field in response.json()
    assert Purchase.objects.count() == 0
    assert Contact.objects.count() == 0


def test_errors_of_several_fields_come_together(sales_api):
    response = sales_api.post("/api/purchases/", _order(currency="XYZ", purchased_at=FUTURE),
                              format="json")

    assert response.status_code == 400
    assert sorted(response.json()) == ["currency", "purchased_at"]


def test_body_that_is_not_an_object_is_a_400(sales_api):
    response = sales_api.post("/api/purchases/", [_order()], format="json")

    assert response.status_code == 400
    assert Purchase.objects.count() == 0


def test_malformed_json_is_a_400(sales_api):
    response = sales_api.post("/api/purchases/", "{not json", content_type="application/json")

    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_oversized_body_is_refused_before_parsing(sales_api, settings):
    settings.CRM_API_MAX_BODY_BYTES = 1000

    response = sales_api.post("/api/purchases/", _order(code="x" * 2000), format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is larger than 1000 bytes."}
    assert Purchase.objects.count() == 0


def test_form_encoded_body_is_refused(sales_api):
    response = sales_api.post("/api/purchases/", _order(), format="multipart")

    assert response.status_code == 415
    assert Purchase.objects.count() == 0
