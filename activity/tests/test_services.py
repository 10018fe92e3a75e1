"""activity.services: validation, contacts by id or email, idempotent ingestion, batches."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from activity.models import WebsiteEvent
from activity.services import event_clean, event_record, events_record
from customers.models import Contact
from customers.tests.factories import ContactFactory

NOW = timezone.now()


def _codes_by_field(**changes) -> dict[str, list[str]]:
    values = {"kind": "viewed_product", "occurred_at": NOW - dt.timedelta(hours=1),
              "name": "Mug", "properties": {"sku": "M-1"}, "source": "shop", **changes}
    with pytest.raises(ValidationError) as caught:
        event_clean(**values, now=NOW)
    return {field: [error.message for error in errors]
            for field, errors in caught.value.error_dict.items()}


# --- Validation (no database) ---------------------------------------------------------------

def test_a_good_event_is_cleaned():
    cleaned = event_clean(kind="searched", occurred_at=NOW, name="  red shoes ",
                          properties={"results": 12, "filters": ["red", "42"]}, source=" shop ",
                          now=NOW)

    assert cleaned == {"kind": "searched", "name": "red shoes", "occurred_at": NOW,
                       "properties": {"results": 12, "filters": ["red", "42"]},
                       "source": "shop"}


@pytest.mark.parametrize(("changes", "expected"), [
    ({"kind": "bought_a_car"}, {"kind": ["Unknown kind of event."]}),
    ({"kind": "custom", "name": " "}, {"name": ["A custom action needs a name."]}),
    ({"occurred_at": NOW + dt.timedelta(hours=25)},
     {"occurred_at": ["The event is in the future."]}),
    ({"occurred_at": NOW - dt.timedelta(days=731)},
     {"occurred_at": ["The event is more than two years old."]}),
    ({"occurred_at": dt.datetime(2026, 1, 1, 12, 0)},
     {"occurred_at": ["Give the time of the event with its time zone."]}),
    ({"properties": ["a"]}, {"properties": ["Properties must be a JSON object."]}),
    ({"properties": {f"k{i}": i for i in range(21)}}, {"properties": ["At most 20 properties."]}),
    ({"properties": {"x" * 65: 1}}, {"properties": ["Property names must be 1 to 64 characters."]}),
    ({"properties": {"cart": {"nested": 1}}}, {"properties": [
        "Property cart: give text (up to 500 characters), a number, true, false, null, or a "
        "list of up to 50 of these."]}),
    ({"source": ""}, {"source": ["Give a source of 1 to 32 characters."]}),
])
def test_bad_values_are_reported_under_their_field(changes, expected):
    assert _codes_by_field(**changes) == expected


def test_oversized_properties_are_refused_with_their_size():
    properties = {f"k{i:02d}": "é" * 150 for i in range(20)}  # 300 bytes of UTF-8 each

    assert _codes_by_field(properties=properties) == {"properties": [
        "Properties take 6220 bytes as JSON; at most 4096 are allowed."]}


def test_slightly_future_times_are_tolerated_as_for_purchases(settings):
    settings.CRM_FUTURE_TOLERANCE_HOURS = 24

    cleaned = event_clean(kind="viewed_page", occurred_at=NOW + dt.timedelta(hours=23),
                          now=NOW)

    assert cleaned["occurred_at"] == NOW + dt.timedelta(hours=23)


# --- Recording ------------------------------------------------------------------------------

@pytest.mark.django_db
def test_an_unknown_email_makes_a_prospect_without_consent():
    result = event_record(email="  New.Visitor@Example.com ", kind="signed_up_newsletter",
                          occurred_at=NOW, source="shop", external_id="nl-1")

    contact = Contact.objects.get()
    assert result.created is True
    assert contact.email == "new.visitor@example.com"
    assert contact.marketing_consent is False
    assert contact.stage == "prospect"
    assert result.event.contact == contact
    assert (result.event.kind, result.event.source, result.event.external_id) == (
        "signed_up_newsletter", "shop", "nl-1")


@pytest.mark.django_db
def test_a_known_email_is_the_existing_contact():
    contact = ContactFactory(email="ann@example.com")

    result = event_record(email="ANN@example.com", kind="viewed_page", occurred_at=NOW)

    assert result.event.contact == contact
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_a_retry_with_the_same_source_and_external_id_is_stored_once():
    contact = ContactFactory()
    first = event_record(contact=contact, kind="abandoned_cart", occurred_at=NOW,
                         source="shop", external_id="cart-9")

    retry = event_record(contact=contact, kind="abandoned_cart", occurred_at=NOW,
                         source="shop", external_id=" cart-9 ")

    assert retry.created is False
    assert retry.event.pk == first.event.pk
    assert WebsiteEvent.objects.count() == 1


@pytest.mark.django_db
def test_a_retry_by_a_new_email_creates_no_contact():
    contact = ContactFactory()
    event_record(contact=contact, kind="viewed_page", occurred_at=NOW, source="shop",
                 external_id="e-1")

    retry = event_record(email="someone.else@example.com", kind="viewed_page",
                         occurred_at=NOW, source="shop", external_id="e-1")

    assert retry.created is False
    assert list(Contact.objects.all()) == [contact]


@pytest.mark.django_db
def test_same_external_id_from_another_source_or_without_one_is_another_event():
    contact = ContactFactory()
    for source, external_id in [("shop", "x"), ("app", "x"), ("shop", None), ("shop", "")]:
        event_record(contact=contact, kind="viewed_page", occurred_at=NOW, source=source,
                     external_id=external_id)

    assert WebsiteEvent.objects.count() == 4


@pytest.mark.django_db
def test_an_invalid_event_stores_nothing_not_even_the_contact():
    with pytest.raises(ValidationError):
        event_record(email="ann@example.com", kind="viewed_page",
                     occurred_at=NOW + dt.timedelta(days=3))

    assert not Contact.objects.exists()
    assert not WebsiteEvent.objects.exists()


@pytest.mark.django_db
def test_a_batch_is_all_or_nothing_and_names_the_bad_items():
    contact = ContactFactory()
    good = {"contact": contact, "kind": "viewed_page", "occurred_at": NOW}

    with pytest.raises(ValidationError) as caught:
        events_record(events=[good, {**good, "kind": "nope"}, good,
                              {**good, "properties": "x"}])

    assert caught.value.message_dict == {"1.kind": ["Unknown kind of event."],
                                         "3.properties": ["Properties must be a JSON object."]}
    assert not WebsiteEvent.objects.exists()


@pytest.mark.django_db
def test_a_batch_records_each_once_even_when_repeated_inside_it():
    good = {"email": "bob@example.com", "kind": "added_to_cart", "occurred_at": NOW,
            "source": "shop"}

    results = events_record(events=[{**good, "external_id": "a"}, {**good, "external_id": "b"},
                                    {**good, "external_id": "a"}])

    assert [result.created for result in results] == [True, True, False]
    assert results[2].event.pk == results[0].event.pk
    assert WebsiteEvent.objects.count() == 2
    assert Contact.objects.count() == 1


@pytest.mark.django_db
def test_a_batch_over_the_limit_is_refused():
    item = {"email": "bob@example.com", "kind": "viewed_page", "occurred_at": NOW}

    with pytest.raises(ValidationError) as caught:
        events_record(events=[item] * 501)

    assert caught.value.messages == ["At most 500 events at a time."]
    assert not Contact.objects.exists()
