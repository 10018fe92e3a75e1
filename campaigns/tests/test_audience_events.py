"""Audience criteria on website actions: "did <kind> within N days (and no purchase since)"."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from activity.tests.factories import WebsiteEventFactory
from campaigns.audience import (AudienceCriteria, audience_contacts, audience_sample,
                                audience_size)
from campaigns.models import Campaign, EmailTemplate
from customers.services.contacts import contact_set_consent
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory, record_purchase

NOW = timezone.now()
CART = {"website_action": "abandoned_cart", "website_action_days": 7}


def _codes(data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        AudienceCriteria.from_json(data)
    return {field: [error.code for error in errors]
            for field, errors in caught.value.error_dict.items()}


# --- Validation (no database) ---------------------------------------------------------------

def test_website_action_criteria_round_trip_through_json():
    data = {**CART, "website_action_no_purchase_since": True}

    criteria = AudienceCriteria.from_json(data)

    assert (criteria.website_action, criteria.website_action_days,
            criteria.website_action_no_purchase_since) == ("abandoned_cart", 7, True)
    assert criteria.to_json() == data
    assert AudienceCriteria.from_json(criteria.to_json()) == criteria


@pytest.mark.parametrize(("data", "expected"), [
    ({"website_action": "bought_a_car", "website_action_days": 7},
     {"website_action": ["unknown_website_action"]}),
    ({"website_action": "abandoned_cart"}, {"website_action_days": ["required"]}),
    ({"website_action": "abandoned_cart", "website_action_days": 0},
     {"website_action_days": ["invalid_window"]}),
    ({"website_action": "abandoned_cart", "website_action_days": 731},
     {"website_action_days": ["invalid_window"]}),
    ({"website_action": "abandoned_cart", "website_action_days": "7"},
     {"website_action_days": ["invalid_count"]}),
    ({**CART, "website_action_no_purchase_since": "yes"},
     {"website_action_no_purchase_since": ["invalid_bool"]}),
    ({"website_action_days": 7, "website_action_no_purchase_since": True},
     {"website_action_days": ["needs_website_action"],
      "website_action_no_purchase_since": ["needs_website_action"]}),
])
def test_bad_website_action_criteria_are_reported_under_their_field(data, expected):
    assert _codes(data) == expected


# --- The query ------------------------------------------------------------------------------

def _contact(*, consent=True, purchases_days_ago=(), **fields):
    contact = ContactFactory(**fields)
    for days in purchases_days_ago:
        record_purchase(contact, days_ago=days)
    if consent:
        contact_set_consent(contact=contact, consent=True, source="test")
    return contact


def _event(contact, *, days_ago: float, kind="abandoned_cart"):
    return WebsiteEventFactory(contact=contact, kind=kind,
                               occurred_at=NOW - dt.timedelta(days=days_ago))


def _ids(criteria: AudienceCriteria) -> set[int]:
    return set(audience_contacts(criteria, now=NOW).values_list("pk", flat=True))


@pytest.mark.django_db
def test_did_the_action_within_the_window():
    recent = _contact()
    _event(recent, days_ago=6.9)
    old = _contact()
    _event(old, days_ago=7.1)
    other_kind = _contact()
    _event(other_kind, days_ago=1, kind="viewed_product")
    no_consent = _contact(consent=False)
    _event(no_consent, days_ago=1)
    _contact()  # no event at all

    assert _ids(AudienceCriteria(website_action="abandoned_cart",
                                 website_action_days=7)) == {recent.pk}


@pytest.mark.django_db
def test_no_purchase_since_the_action():
    abandoned = _contact(purchases_days_ago=[30])
    _event(abandoned, days_ago=2)
    bought_after = _contact()
    _event(bought_after, days_ago=2)
    record_purchase(bought_after, days_ago=1)
    refunded_after = _contact()
    _event(refunded_after, days_ago=2)
    purchase_refund(purchase=record_purchase(refunded_after, days_ago=1))
    came_back_to_cart = _contact()  # bought after one abandoned cart, abandoned another later
    _event(came_back_to_cart, days_ago=5)
    record_purchase(came_back_to_cart, days_ago=4)
    _event(came_back_to_cart, days_ago=1)
    criteria = AudienceCriteria(website_action="abandoned_cart", website_action_days=7,
                                website_action_no_purchase_since=True)

    assert _ids(criteria) == {abandoned.pk, refunded_after.pk, came_back_to_cart.pk}
    assert _ids(AudienceCriteria(**{**CART})) == {
        abandoned.pk, bought_after.pk, refunded_after.pk, came_back_to_cart.pk}


@pytest.mark.django_db
def test_the_audience_is_one_query(django_assert_num_queries):
    _event(_contact(), days_ago=1)
    criteria = AudienceCriteria(website_action="abandoned_cart", website_action_days=7,
                                website_action_no_purchase_since=True, stages=("prospect",))

    with django_assert_num_queries(1):
        assert audience_size(criteria, now=NOW) == 1


@pytest.mark.django_db
def test_combines_with_other_criteria():
    prospect = _contact()
    _event(prospect, days_ago=1)
    buyer = _contact(purchases_days_ago=[20])
    _event(buyer, days_ago=1)

    assert _ids(AudienceCriteria(stages=("one_time",), **CART)) == {buyer.pk}


# --- Dry run: counts and reasons ------------------------------------------------------------

@pytest.mark.django_db
def test_sample_says_which_action_and_when():
    contact = _contact()
    _event(contact, days_ago=5.5)
    _event(contact, days_ago=2.5)  # the latest one is the reason
    criteria = AudienceCriteria(website_action="abandoned_cart", website_action_days=7,
                                website_action_no_purchase_since=True)

    [(sampled, reasons)] = audience_sample(criteria, now=NOW)

    assert sampled == contact
    assert reasons == ["prospect", "website action: Abandoned a cart, 2 days ago",
                       "no purchase since"]


@pytest.fixture
def cart_campaign(db) -> Campaign:
    template = EmailTemplate.objects.create(name="Cart", subject="Your cart", body_text="Hi")
    return Campaign.objects.create(
        name="Abandoned cart", template=template, holdout_percent=0,
        trigger=Campaign.Trigger.EVENT, event=Campaign.Event.WEBSITE_EVENT,
        event_kind="abandoned_cart",
        audience={**CART, "website_action_no_purchase_since": True})


@pytest.mark.django_db
def test_the_admin_dry_run_counts_and_explains(client, manager, cart_campaign):
    for _ in range(3):
        _event(_contact(), days_ago=1)
    bought = _contact()
    _event(bought, days_ago=2)
    record_purchase(bought, days_ago=1)
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_campaign_change",
                              args=[cart_campaign.pk])).content.decode()

    assert "3 contacts match today." in html
    assert "website action: Abandoned a cart, 1 day ago, no purchase since" in html
    assert bought.email not in html


def _form_data(campaign: Campaign, **changes) -> dict:
    return {"name": campaign.name, "kind": "custom", "template": campaign.template_id,
            "trigger": "event", "event": "website_event", "event_kind": "abandoned_cart",
            "delay_days": 1, "holdout_percent": 10, "uplift_window_days": 30,
            "coupon_kind": "", "coupon_valid_days": 30, "website_action": "abandoned_cart",
            "website_action_days": 3, "website_action_no_purchase_since": "on",
            "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0, **changes}


@pytest.mark.django_db
def test_the_admin_form_saves_the_trigger_and_the_criteria(client, manager, cart_campaign):
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[cart_campaign.pk])

    page = client.get(url).content.decode()
    saved = client.post(url, _form_data(cart_campaign, event_kind="started_checkout"))

    assert 'name="event_kind"' in page and 'name="website_action_days"' in page
    assert saved.status_code == 302
    cart_campaign.refresh_from_db()
    assert cart_campaign.event_kind == "started_checkout"
    assert cart_campaign.audience == {"website_action": "abandoned_cart",
                                      "website_action_days": 3,
                                      "website_action_no_purchase_since": True}


@pytest.mark.django_db
def test_the_admin_form_needs_the_action_for_a_website_event(client, manager, cart_campaign):
    client.force_login(manager)
    url = reverse("admin:campaigns_campaign_change", args=[cart_campaign.pk])

    refused = client.post(url, _form_data(cart_campaign, event_kind=""))
    no_window = client.post(url, _form_data(cart_campaign, website_action_days=""))

    assert refused.status_code == 200
    assert "Choose the website action that starts this campaign." in refused.content.decode()
    assert no_window.status_code == 200
    assert "Enter within how many days." in no_window.content.decode()
    cart_campaign.refresh_from_db()
    assert cart_campaign.audience["website_action_days"] == 7
