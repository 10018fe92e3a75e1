"""POST /api/purchases/ (idempotent on source and external_id) and the purchase list."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from customers.models import Contact, Purchase
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _order(**changes) -> dict:
    return {"email": "ann@example.com", "purchased_at": "2024-05-31T14:30:00+03:00",
            "amount": "19.90", "currency": "usd", "channel": "store", "source": "shop",
            "external_id": "order-1", **changes}


def test_new_purchase_creates_the_contact_and_answers_201(sales_api):
    response = sales_api.post("/api/purchases/", _order(first_name="Ann"), format="json")

    assert response.status_code == 201
    body = response.json()
    contact = Contact.objects.get(email="ann@example.com")
    assert body["created"] is True
    assert body["code_outcome"] == "no_code"
    assert body["contact"] == contact.pk
    assert body["amount"] == "19.900"
    assert body["currency"] == "USD"
    assert body["purchased_at"] == "2024-05-31T11:30:00+00:00"
    assert (body["channel"], body["source"], body["external_id"]) == ("store", "shop", "order-1")
    assert contact.first_name == "Ann"
    assert contact.purchase_count == 1
    assert contact.total_spent == Decimal("19.9")


def test_retry_answers_200_with_the_existing_purchase(sales_api):
    first = sales_api.post("/api/purchases/", _order(), format="json")

    retry = sales_api.post("/api/purchases/", _order(), format="json")

    assert retry.status_code == 200
    assert retry.json()["created"] is False
    assert retry.json()["id"] == first.json()["id"]
    assert Purchase.objects.count() == 1
    assert Contact.objects.get().purchase_count == 1


def test_a_retry_naming_another_email_leaves_no_stray_contact(sales_api):
    sales_api.post("/api/purchases/", _order(), format="json")

    retry = sales_api.post("/api/purchases/", _order(email="typo@example.com"), format="json")

    assert retry.status_code == 200
    assert list(Contact.objects.values_list("email", flat=True)) == ["ann@example.com"]


def test_same_external_id_from_another_source_is_another_purchase(sales_api):
    sales_api.post("/api/purchases/", _order(), format="json")

    response = sales_api.post("/api/purchases/", _order(source="pos"), format="json")

    assert response.status_code == 201
    assert Purchase.objects.count() == 2


def test_without_external_id_every_post_is_a_new_purchase(sales_api):
    sales_api.post("/api/purchases/", _order(external_id=None), format="json")
    sales_api.post("/api/purchases/", _order(external_id=None), format="json")

    assert Purchase.objects.count() == 2


def test_purchase_by_contact_id(sales_api):
    contact = ContactFactory()

    response = sales_api.post("/api/purchases/", {**_order(contact=contact.pk), "email": None},
                              format="json")
    assert response.status_code == 400  # email given (even null) besides contact

    payload = _order(contact=contact.pk)
    del payload["email"]
    response = sales_api.post("/api/purchases/", payload, format="json")

    assert response.status_code == 201
    assert Purchase.objects.get().contact == contact


def test_a_date_means_midnight_in_the_shop_time_zone(sales_api):
    response = sales_api.post("/api/purchases/", _order(purchased_at="2024-05-31"), format="json")

    assert response.status_code == 201
    assert Purchase.objects.get().purchased_at == dt.datetime(2024, 5, 31, tzinfo=dt.UTC)


def test_a_code_outcome_is_reported(sales_api):
    response = sales_api.post("/api/purchases/", _order(code="NOPE-12345-67890"), format="json")

    assert response.status_code == 201
    assert response.json()["code_outcome"] == "unknown"
    assert response.json()["code"] == "NOPE-12345-67890"


def test_list_by_contact_newest_first(sales_api):
    ann, bob = ContactFactory(), ContactFactory()
    older = record_purchase(ann, days_ago=5)
    newer = record_purchase(ann, days_ago=1)
    record_purchase(bob, days_ago=2)

    response = sales_api.get(f"/api/purchases/?contact={ann.pk}")

    assert response.status_code == 200
    assert [row["id"] for row in response.json()["results"]] == [newer.pk, older.pk]


def test_list_walks_cursor_pages(sales_api):
    contact = ContactFactory()
    ids = [record_purchase(contact, days_ago=i).pk for i in range(3)]

    page1 = sales_api.get("/api/purchases/?page_size=2").json()
    page2 = sales_api.get(page1["next"]).json()

    assert [row["id"] for row in page1["results"] + page2["results"]] == ids[::-1]
    assert page2["next"] is None


def test_list_bad_contact_filter_is_a_400(sales_api):
    response = sales_api.get("/api/purchases/?contact=abc")

    assert response.status_code == 400
    assert list(response.json()) == ["contact"]


def test_purchase_now_is_accepted(sales_api):
    now = timezone.now().isoformat()

    assert sales_api.post("/api/purchases/", _order(purchased_at=now),
                          format="json").status_code == 201


def test_retry_answers_with_the_same_body_apart_from_created(sales_api):
    first = sales_api.post("/api/purchases/", _order(), format="json").json()

    retry = sales_api.post("/api/purchases/", _order(), format="json").json()

    assert {**retry, "created": True, "code_outcome": "no_code"} == first


def test_list_query_count_does_not_grow_with_rows(sales_api, django_assert_num_queries):
    contact = ContactFactory()
    for day in range(30):
        record_purchase(contact, days_ago=day)

    # token, user and permissions in one; one page; the page's lines (#20) in one
    with django_assert_num_queries(3):
        response = sales_api.get(f"/api/purchases/?contact={contact.pk}")

    assert len(response.json()["results"]) == 30


def _statements(captured) -> list[str]:
    """The request's own statements, by kind and table, until its transaction ends (Celery runs
    eagerly in tests: the queued task's reads come after)."""
    statements, depth = [], 0
    for query in captured.captured_queries:
        sql = query["sql"]
        if sql.startswith("COMMIT"):
            break
        if sql.startswith(("BEGIN", "SAVEPOINT")):
            depth += 1
        elif sql.startswith("RELEASE SAVEPOINT"):  # a savepoint inside the request's own
            depth -= 1
            if depth <= 0:
                break
        elif not sql.startswith("ROLLBACK TO SAVEPOINT"):
            verb = sql.split()[0]
            table = re.match(r'(?:SELECT|INSERT OR IGNORE INTO|INSERT INTO|UPDATE) "(\w+)"',
                             sql).group(1)
            statements.append(f"{verb} {table}")
    return statements


def test_a_new_order_and_its_retry_take_a_few_statements(sales_api):
    """The ingestion path's statements (the benchmark depends on them staying few)."""
    ContactFactory(email="known@example.com")
    order = _order(email="known@example.com")
    # Warm: "does any webhook want stage changes?" is asked once per few seconds, not per order.
    sales_api.post("/api/purchases/", _order(external_id="earlier"), format="json")

    with CaptureQueriesContext(connection) as new_order:
        assert sales_api.post("/api/purchases/", order, format="json").status_code == 201
    with CaptureQueriesContext(connection) as retry:
        assert sales_api.post("/api/purchases/", order, format="json").status_code == 200

    assert _statements(new_order) == [
        "SELECT authtoken_token",  # token, user and permissions
        "SELECT customers_purchase",  # known order?
        "SELECT customers_contact",  # the buyer, locked
        "INSERT customers_purchase",
        "SELECT campaigns_journeyenrollment",  # a journey the buyer is in ends (#21)
        "UPDATE customers_contact",  # the buyer's figures
    ]
    # The retry answers with the order's lines (#20): read, since the first call may have had
    # some; a new order without lines has none to read.
    assert _statements(retry) == ["SELECT authtoken_token", "SELECT customers_purchase",
                                  "SELECT customers_purchaseline"]
