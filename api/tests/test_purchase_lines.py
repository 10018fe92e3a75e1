"""Order lines through the REST API: nested in POST /api/purchases/ and in every answer."""
from decimal import Decimal

import pytest

from customers.models import Product, Purchase, PurchaseLine
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db

LINES = [
    {"sku": "TEA-1", "name": "Green tea", "category": "Tea", "quantity": 2,
     "unit_price": "12.50"},
    {"sku": "CHEESE", "name": "Aged cheese", "category": "Deli", "quantity": "1.250",
     "unit_price": "20.00", "discount": "5.00"},
]


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


def _order(**changes) -> dict:
    return {"email": "ann@example.com", "purchased_at": "2024-05-31T14:30:00+03:00",
            "currency": "usd", "source": "shop", "external_id": "order-1", "lines": LINES,
            **changes}


def test_an_order_with_lines_and_no_amount_takes_their_sum(sales_api):
    response = sales_api.post("/api/purchases/", _order(), format="json")

    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["amount"], body["quantity"]) == ("45.000", 3)
    assert [(line["sku"], line["name"], line["category"], line["quantity"], line["total"])
            for line in body["lines"]] == [
        ("TEA-1", "Green tea", "Tea", "2.000", "25.000"),
        ("CHEESE", "Aged cheese", "Deli", "1.250", "20.000")]
    assert PurchaseLine.objects.count() == 2


def test_a_retry_adds_no_lines_and_answers_the_same_body(sales_api):
    first = sales_api.post("/api/purchases/", _order(), format="json").json()

    retry = sales_api.post("/api/purchases/", _order(), format="json")

    assert retry.status_code == 200
    assert {**retry.json(), "created": True, "code_outcome": "no_code"} == first
    assert PurchaseLine.objects.count() == 2 and Product.objects.count() == 2


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"amount": "50.00"}, "amount", "The lines add up to 45.00"),
    ({"lines": [{**LINES[0], "quantity": -2}]}, "lines", "Line 1: the quantity must be above"),
    ({"lines": [{**LINES[0], "quantity": 1.5}]}, "lines", "Send the quantity as a whole"),
    ({"lines": [{**LINES[0], "unit_price": 3}]}, "lines", "Send the amount as a decimal"),
    ({"lines": [{**LINES[0], "colour": "red"}]}, "lines", ""),
    ({"lines": []}, "amount", "Give the amount, or the lines"),
])
def test_bad_lines_are_refused_with_a_400_naming_them(sales_api, change, field, message):
    response = sales_api.post("/api/purchases/", _order(**change), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert message in str(response.json()[field])
    assert not Purchase.objects.exists()


def test_an_order_without_lines_answers_an_empty_list(sales_api):
    response = sales_api.post("/api/purchases/", _order(lines=None, amount="19.90") | {},
                              format="json")
    assert response.status_code == 400  # null is not a list
    body = {key: value for key, value in _order(amount="19.90").items() if key != "lines"}

    response = sales_api.post("/api/purchases/", body, format="json")

    assert response.status_code == 201 and response.json()["lines"] == []


def test_the_list_shows_each_purchases_lines(sales_api, django_assert_max_num_queries):
    contact = ContactFactory()
    record_purchase(contact, amount="25.00", lines=LINES[:1])
    record_purchase(contact, amount="7.00")

    with django_assert_max_num_queries(3):  # token; the page; the page's lines
        body = sales_api.get(f"/api/purchases/?contact={contact.pk}").json()

    assert sorted(len(row["lines"]) for row in body["results"]) == [0, 1]
    line = next(row for row in body["results"] if row["lines"])["lines"][0]
    assert (line["sku"], line["unit_price"], line["total_base"]) == ("TEA-1", "12.500", "25.000")
    assert Decimal(line["refunded_quantity"]) == 0


def test_the_schema_documents_the_lines(sales_api):
    schema = sales_api.get("/api/schema/?format=json").json()
    components = schema["components"]["schemas"]
    assert "lines" in components["PurchaseInputRequest"]["properties"]
    assert "unit_price" in components["PurchaseLineInputRequest"]["properties"]
    assert "lines" in components["Purchase"]["properties"]
    assert "total" in components["PurchaseLine"]["properties"]
