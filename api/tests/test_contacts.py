"""/api/contacts/: list with filters and cursor pages, create, read, change."""
import datetime as dt

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from customers.models import Contact
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _emails(response) -> list[str]:
    return [row["email"] for row in response.json()["results"]]


def test_list_is_newest_first(sales_api):
    first, second = ContactFactory(email="a@example.com"), ContactFactory(email="b@example.com")

    response = sales_api.get("/api/contacts/")

    assert response.status_code == 200
    assert _emails(response) == [second.email, first.email]


def test_list_walks_cursor_pages(sales_api):
    emails = [ContactFactory(email=f"c{i}@example.com").email for i in range(5)]

    page1 = sales_api.get("/api/contacts/?page_size=2").json()
    page2 = sales_api.get(page1["next"]).json()
    page3 = sales_api.get(page2["next"]).json()

    seen = [row["email"] for page in (page1, page2, page3) for row in page["results"]]
    assert seen == emails[::-1]
    assert page3["next"] is None


def test_list_query_count_does_not_grow_with_rows(sales_api, django_assert_num_queries):
    for i in range(30):
        ContactFactory(email=f"q{i}@example.com")

    with django_assert_num_queries(2):  # token, user and permissions in one; one page
        response = sales_api.get("/api/contacts/")

    assert len(response.json()["results"]) == 30


def test_filter_by_stage(sales_api):
    buyer = ContactFactory(email="buyer@example.com")
    ContactFactory(email="prospect@example.com")
    record_purchase(buyer, days_ago=3)

    response = sales_api.get("/api/contacts/?stage=one_time")

    assert _emails(response) == ["buyer@example.com"]


def test_filter_by_email_ignores_case(sales_api):
    ContactFactory(email="ann@example.com")
    ContactFactory(email="bob@example.com")

    assert _emails(sales_api.get("/api/contacts/?email=ANN@Example.com")) == ["ann@example.com"]


def test_filter_by_search_words(sales_api):
    ContactFactory(email="x@example.com", first_name="Ann", last_name="Lee")
    ContactFactory(email="y@example.com", first_name="Ann", last_name="Kim")

    assert _emails(sales_api.get("/api/contacts/?q=ann kim")) == ["y@example.com"]


def test_filter_updated_since(sales_api):
    old = ContactFactory(email="old@example.com")
    Contact.objects.filter(pk=old.pk).update(updated_at=timezone.now() - dt.timedelta(days=10))
    ContactFactory(email="new@example.com")
    since = (timezone.now() - dt.timedelta(days=1)).isoformat()

    response = sales_api.get("/api/contacts/", {"updated_since": since})

    assert _emails(response) == ["new@example.com"]


@pytest.mark.parametrize("query, field", [("stage=vip", "stage"),
                                          ("updated_since=yesterday", "updated_since")])
def test_invalid_filter_is_a_400(sales_api, query, field):
    response = sales_api.get(f"/api/contacts/?{query}")

    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_create_normalises_email(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "  Ann@Example.COM ",
                                                 "first_name": " Ann "}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ann@example.com"
    assert body["first_name"] == "Ann"
    assert body["stage"] == "prospect"
    assert body["owner"] is None
    assert Contact.objects.get().email == "ann@example.com"


def test_create_with_consent_records_the_source(sales_api):
    response = sales_api.post("/api/contacts/", {"email": "a@example.com",
                                                 "marketing_consent": True}, format="json")

    contact = Contact.objects.get(pk=response.json()["id"])
    assert contact.marketing_consent is True
    assert contact.consent_source == "api"
    assert contact.consent_changed_at is not None


def test_create_duplicate_email_is_a_400(sales_api):
    ContactFactory(email="ann@example.com")

    response = sales_api.post("/api/contacts/", {"email": "ANN@example.com"}, format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A contact with this email already exists."]}
    assert Contact.objects.count() == 1


@pytest.mark.parametrize("payload, field", [
    ({}, "email"),
    ({"email": "not-an-email"}, "email"),
    ({"email": 42}, "email"),
    ({"email": "a@example.com", "phone": "1" * 40}, "phone"),
    ({"email": "a@example.com", "nickname": "Al"}, "nickname"),
    ({"email": "a@example.com", "stage": "repeat"}, "stage"),
    ({"email": "a@example.com", "owner": 999}, "owner"),
])
def test_create_bad_input_is_a_400_and_stores_nothing(sales_api, payload, field):
    response = sales_api.post("/api/contacts/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert Contact.objects.count() == 0


def test_owner_must_have_an_owner_role(manager_api):
    # customers.owners: active sales staff or managers (customers/tests/test_owner_rule.py).
    contact = ContactFactory()
    roleless = UserFactory(username="boss")

    response = manager_api.patch(f"/api/contacts/{contact.pk}/", {"owner": roleless.pk},
                                 format="json")

    assert response.status_code == 400
    assert list(response.json()) == ["owner"]


def test_read_one(sales_api):
    contact = ContactFactory(email="ann@example.com", first_name="Ann")

    body = sales_api.get(f"/api/contacts/{contact.pk}/").json()

    assert body["id"] == contact.pk
    assert body["first_name"] == "Ann"
    assert body["total_spent"] == "0.000"


def test_read_missing_is_404(sales_api):
    assert sales_api.get("/api/contacts/999/").status_code == 404


def test_patch_changes_only_given_fields(sales_api):
    contact = ContactFactory(email="ann@example.com", first_name="Ann", last_name="Lee")

    response = sales_api.patch(f"/api/contacts/{contact.pk}/",
                               {"last_name": "Kim", "email": "Ann.Kim@Example.com"}, format="json")

    assert response.status_code == 200
    contact.refresh_from_db()
    assert (contact.first_name, contact.last_name, contact.email) == (
        "Ann", "Kim", "ann.kim@example.com")


def test_patch_consent(sales_api):
    contact = ContactFactory()

    sales_api.patch(f"/api/contacts/{contact.pk}/", {"marketing_consent": True,
                                                     "consent_source": "shop"}, format="json")

    contact.refresh_from_db()
    assert (contact.marketing_consent, contact.consent_source) == (True, "shop")


def test_patch_to_a_taken_email_is_a_400(sales_api):
    ContactFactory(email="taken@example.com")
    contact = ContactFactory(email="mine@example.com")

    response = sales_api.patch(f"/api/contacts/{contact.pk}/", {"email": "taken@example.com"},
                               format="json")

    assert response.status_code == 400
    assert response.json() == {"email": ["A contact with this email already exists."]}
    contact.refresh_from_db()
    assert contact.email == "mine@example.com"


@pytest.mark.parametrize("payload", [{"purchase_count": 9}, {"total_spent": "1.00"},
                                     {"first_name": ["x"]}, {"colour": "red"}])
def test_patch_bad_input_changes_nothing(sales_api, payload):
    contact = ContactFactory(first_name="Ann")

    response = sales_api.patch(f"/api/contacts/{contact.pk}/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == list(payload)
    contact.refresh_from_db()
    assert (contact.first_name, contact.purchase_count) == ("Ann", 0)
