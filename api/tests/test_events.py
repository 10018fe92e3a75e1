"""POST /api/events/ (one or up to 500, idempotent on source and external_id) and the list."""
import datetime as dt

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from activity.models import WebsiteEvent
from activity.tests.factories import WebsiteEventFactory
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

RECENT = (timezone.now() - dt.timedelta(hours=2)).isoformat()
FUTURE = (timezone.now() + dt.timedelta(days=3)).isoformat()
ANCIENT = (timezone.now() - dt.timedelta(days=800)).isoformat()


def _event(**changes) -> dict:
    event = {"email": "ann@example.com", "kind": "abandoned_cart", "name": "Blue mug",
             "properties": {"cart_value": "19.90", "items": ["mug"]}, "occurred_at": RECENT,
             "source": "shop", "external_id": "cart-1"}
    event.update(changes)
    return {key: value for key, value in event.items() if value is not ...}


# --- Recording ------------------------------------------------------------------------------

def test_one_event_creates_the_prospect_and_answers_201(manager_api):
    response = manager_api.post("/api/events/", _event(), format="json")

    assert response.status_code == 201
    body = response.json()
    event = WebsiteEvent.objects.get()
    contact = Contact.objects.get()
    assert body["id"] == event.pk and body["created"] is True
    assert body["contact"] == contact.pk
    assert (body["kind"], body["name"], body["source"], body["external_id"]) == (
        "abandoned_cart", "Blue mug", "shop", "cart-1")
    assert body["properties"] == {"cart_value": "19.90", "items": ["mug"]}
    assert contact.email == "ann@example.com" and contact.marketing_consent is False


def test_retry_answers_200_with_the_existing_event(manager_api):
    first = manager_api.post("/api/events/", _event(), format="json")

    retry = manager_api.post("/api/events/", _event(name="changed"), format="json")

    assert retry.status_code == 200
    assert retry.json()["created"] is False
    assert retry.json()["id"] == first.json()["id"]
    assert retry.json()["name"] == "Blue mug"
    assert WebsiteEvent.objects.count() == 1


def test_an_event_by_contact_id(manager_api):
    contact = ContactFactory()

    response = manager_api.post("/api/events/", _event(email=..., contact=contact.pk),
                                format="json")

    assert response.status_code == 201
    assert WebsiteEvent.objects.get().contact == contact


def test_a_list_answers_one_entry_per_item_in_order(manager_api):
    contact = ContactFactory()
    manager_api.post("/api/events/", _event(), format="json")
    batch = [_event(external_id="cart-1"), _event(external_id="v-1", kind="viewed_product"),
             _event(email=..., contact=contact.pk, external_id="v-2", kind="searched")]

    response = manager_api.post("/api/events/", batch, format="json")

    assert response.status_code == 201
    body = response.json()
    assert [item["created"] for item in body] == [False, True, True]
    assert [item["kind"] for item in body] == ["abandoned_cart", "viewed_product", "searched"]
    assert WebsiteEvent.objects.count() == 3


def test_a_list_recorded_before_answers_200(manager_api):
    batch = [_event(external_id="a"), _event(external_id="b")]
    manager_api.post("/api/events/", batch, format="json")

    response = manager_api.post("/api/events/", batch, format="json")

    assert response.status_code == 200
    assert [item["created"] for item in response.json()] == [False, False]
    assert WebsiteEvent.objects.count() == 2


def test_a_full_batch_of_500_is_accepted(manager_api):
    batch = [_event(external_id=f"e-{i}", kind="viewed_page", name=f"/page/{i}")
             for i in range(500)]

    response = manager_api.post("/api/events/", batch, format="json")

    assert response.status_code == 201
    assert WebsiteEvent.objects.count() == 500
    assert Contact.objects.count() == 1


# --- Bad input: 400 with field errors, nothing stored ---------------------------------------

BAD_EVENTS = {
    "unknown kind": (_event(kind="bought_a_car"), "kind"),
    "kind as a number": (_event(kind=3), "kind"),
    "future beyond tolerance": (_event(occurred_at=FUTURE), "occurred_at"),
    "older than two years": (_event(occurred_at=ANCIENT), "occurred_at"),
    "naive date-time": (_event(occurred_at="2026-11-30T14:30:00"), "occurred_at"),
    "date as a number": (_event(occurred_at=20261130), "occurred_at"),
    "invalid email": (_event(email="ann@"), "email"),
    "email as a number": (_event(email=12), "email"),
    "neither contact nor email": (_event(email=...), "contact"),
    "unknown contact id": (_event(email=..., contact=999), "contact"),
    "contact id as text": (_event(email=..., contact="abc"), "contact"),
    "properties not an object": (_event(properties=["a"]), "properties"),
    "nested properties": (_event(properties={"cart": {"items": 2}}), "properties"),
    "too many properties": (_event(properties={f"k{i}": i for i in range(21)}), "properties"),
    "oversized properties": (_event(properties={f"k{i}": "x" * 400 for i in range(11)}),
                             "properties"),
    "name too long": (_event(name="x" * 201), "name"),
    "custom without a name": (_event(kind="custom", name=""), "name"),
    "external id too long": (_event(external_id="x" * 129), "external_id"),
    "unknown field": (_event(colour="red"), "colour"),
}


@pytest.mark.parametrize("case", list(BAD_EVENTS))
def test_a_bad_event_is_a_400_naming_the_field_and_stores_nothing(manager_api, case):
    payload, field = BAD_EVENTS[case]

    response = manager_api.post("/api/events/", payload, format="json")

    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert WebsiteEvent.objects.count() == 0
    assert Contact.objects.count() == 0


def test_one_bad_item_in_a_list_refuses_the_whole_list(manager_api):
    batch = [_event(external_id="a"), _event(external_id="b", kind="nope"),
             _event(external_id="c", occurred_at=FUTURE, email="bob@example.com")]

    response = manager_api.post("/api/events/", batch, format="json")

    assert response.status_code == 400
    assert response.json() == {  # by the index of each bad item
        "1": {"kind": ['"nope" is not a valid choice.']},
        "2": {"occurred_at": ["The event is in the future."]}}
    assert WebsiteEvent.objects.count() == 0
    assert Contact.objects.count() == 0


def test_more_than_500_items_are_refused(manager_api):
    batch = [_event(external_id=f"e-{i}") for i in range(501)]

    response = manager_api.post("/api/events/", batch, format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": [
        "At most 500 events at a time; split the list."]}
    assert WebsiteEvent.objects.count() == 0


def test_a_body_over_the_events_limit_is_refused_before_parsing(manager_api):
    big = {f"k{i:02d}": "x" * 200 for i in range(20)}
    batch = [_event(external_id=f"e-{i}", properties=big) for i in range(500)]  # about 2.2 MB

    response = manager_api.post("/api/events/", batch, format="json")

    assert response.status_code == 400
    assert response.json() == {"detail": "The request body is larger than 2097152 bytes."}
    assert WebsiteEvent.objects.count() == 0


def test_an_empty_list_is_refused(manager_api):
    response = manager_api.post("/api/events/", [], format="json")

    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Send at least one event."]}


def test_a_body_that_is_not_an_object_or_list_is_refused(manager_api):
    response = manager_api.post("/api/events/", "abandoned_cart", format="json")

    assert response.status_code == 400
    assert WebsiteEvent.objects.count() == 0


# --- Who may call it ------------------------------------------------------------------------

def test_sales_staff_read_events_but_may_not_post_them(sales_api):
    assert sales_api.get("/api/events/").status_code == 200

    response = sales_api.post("/api/events/", _event(), format="json")

    assert response.status_code == 403
    assert WebsiteEvent.objects.count() == 0 and Contact.objects.count() == 0


def test_no_role_and_anonymous_are_refused(no_role_api, anonymous_api):
    assert no_role_api.get("/api/events/").status_code == 403
    assert no_role_api.post("/api/events/", _event(), format="json").status_code == 403
    assert anonymous_api.get("/api/events/").status_code == 401
    assert anonymous_api.post("/api/events/", _event(), format="json").status_code == 401
    assert WebsiteEvent.objects.count() == 0


def test_posting_for_a_new_email_needs_add_contact_too(db):
    from django.contrib.auth.models import Permission

    from accounts.tests.factories import UserFactory
    from api.tests.helpers import token_client

    integration = UserFactory(username="shop")
    integration.user_permissions.add(Permission.objects.get(codename="add_websiteevent"))
    client = token_client(integration)
    ContactFactory(email="known@example.com")

    refused = client.post("/api/events/", _event(), format="json")
    allowed = client.post("/api/events/", _event(email="known@example.com"), format="json")

    assert refused.status_code == 403
    assert allowed.status_code == 201
    assert Contact.objects.count() == 1


# --- The list -------------------------------------------------------------------------------

def test_list_filters_by_contact_and_kind_newest_id_first(sales_api):
    contact = ContactFactory()
    first = WebsiteEventFactory(contact=contact, kind="viewed_product")
    second = WebsiteEventFactory(contact=contact, kind="abandoned_cart")
    WebsiteEventFactory()

    by_contact = sales_api.get("/api/events/", {"contact": contact.pk}).json()
    by_kind = sales_api.get("/api/events/", {"contact": contact.pk,
                                             "kind": "viewed_product"}).json()

    assert [item["id"] for item in by_contact["results"]] == [second.pk, first.pk]
    assert [item["id"] for item in by_kind["results"]] == [first.pk]
    assert by_contact["next"] is None


def test_list_pages_with_a_cursor(sales_api):
    contact = ContactFactory()
    events = [WebsiteEventFactory(contact=contact) for _ in range(3)]

    page = sales_api.get("/api/events/", {"contact": contact.pk, "page_size": 2}).json()
    rest = sales_api.get(page["next"]).json()

    assert [item["id"] for item in page["results"]] == [events[2].pk, events[1].pk]
    assert [item["id"] for item in rest["results"]] == [events[0].pk]


def test_a_bad_filter_is_a_400(sales_api):
    assert sales_api.get("/api/events/", {"contact": "x"}).status_code == 400
    assert sales_api.get("/api/events/", {"kind": "nope"}).status_code == 400


# --- Schema ---------------------------------------------------------------------------------

def test_the_schema_documents_events_and_validates_without_warnings(tmp_path):
    target = tmp_path / "schema.yaml"

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))

    schema = yaml.safe_load(target.read_text())
    assert set(schema["paths"]["/api/events/"]) == {"get", "post"}
