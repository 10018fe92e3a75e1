"""Audiences on what was bought: products or categories, ever or in the last N days, and
categories never bought; refunds left out; the same audience from every door that defines one
(the admin form, campaign_service in code; the API only reads campaigns)."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from campaigns.audience import AudienceCriteria, audience_contacts, audience_sample
from campaigns.campaign_service import campaign_create
from campaigns.models import Campaign, EmailTemplate
from customers.models import Product
from customers.services.refunds import purchase_refund
from customers.tests.bought import buy
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def dollars(settings):
    settings.CRM_BASE_CURRENCY = "USD"


@pytest.fixture
def shop():
    """tea_lover: TEA 10 days ago; potter: POT 100 days ago; bather: SOAP (refunded) and
    HONEY; nobody: no purchase."""
    people = {name: ContactFactory(marketing_consent=True, first_name=name)
              for name in ("tea_lover", "potter", "bather", "nobody")}
    buy(people["tea_lover"], "TEA", days_ago=10)
    buy(people["potter"], "POT", days_ago=100)
    purchase_refund(purchase=buy(people["bather"], "SOAP", days_ago=5))
    buy(people["bather"], "HONEY", days_ago=5)
    return people


def _names(audience: dict) -> set[str]:
    criteria = AudienceCriteria.from_json(audience)
    return set(audience_contacts(criteria).values_list("first_name", flat=True))


def _id(sku: str) -> int:
    return Product.objects.get(sku=sku).pk


def test_bought_a_product_ever_or_lately(shop):
    assert _names({"bought_product_ids": [_id("TEA"), _id("POT")]}) == {"tea_lover", "potter"}
    assert _names({"bought_product_ids": [_id("TEA"), _id("POT")],
                   "bought_within_days": 30}) == {"tea_lover"}


def test_bought_in_a_category(shop):
    assert _names({"bought_categories": ["Kitchen"]}) == {"potter"}
    assert _names({"bought_categories": ["Tea", "Deli"], "bought_within_days": 60}) == {
        "tea_lover", "bather"}


def test_refunded_purchases_do_not_count(shop):
    assert _names({"bought_categories": ["Bath"]}) == set()
    assert _names({"not_bought_categories": ["Bath"]}) == {"tea_lover", "potter", "bather",
                                                           "nobody"}


def test_never_bought_a_category_includes_those_who_never_bought(shop):
    assert _names({"not_bought_categories": ["Tea"]}) == {"potter", "bather", "nobody"}


def test_criteria_combine_with_and(shop):
    buy(shop["potter"], "TEA", days_ago=1)
    assert _names({"bought_categories": ["Kitchen"], "not_bought_categories": ["Tea"]}) == set()
    assert _names({"bought_categories": ["Kitchen"], "bought_product_ids": [_id("TEA")]}) == {
        "potter"}


@pytest.mark.parametrize(("audience", "field"), [
    ({"bought_product_ids": []}, "bought_product_ids"),
    ({"bought_product_ids": ["x"]}, "bought_product_ids"),
    ({"bought_categories": ["  "]}, "bought_categories"),
    ({"not_bought_categories": "Tea"}, "not_bought_categories"),
    ({"bought_categories": ["Tea"], "bought_within_days": 0}, "bought_within_days"),
    ({"bought_within_days": 30}, "bought_within_days"),
])
def test_bad_criteria_are_refused_under_their_field(audience, field):
    with pytest.raises(ValidationError) as error:
        AudienceCriteria.from_json(audience)
    assert field in error.value.message_dict


def test_the_criteria_round_trip_through_json(shop):
    criteria = AudienceCriteria.from_json({"bought_categories": [" Tea "],
                                           "bought_within_days": 30,
                                           "not_bought_categories": ["Bath"]})
    assert criteria.to_json() == {"bought_categories": ["Tea"], "bought_within_days": 30,
                                  "not_bought_categories": ["Bath"]}


def test_the_sample_says_why(shop):
    criteria = AudienceCriteria.from_json({"bought_categories": ["Tea"],
                                           "bought_within_days": 30,
                                           "not_bought_categories": ["Kitchen"]})
    [(contact, reasons)] = audience_sample(criteria)
    assert contact == shop["tea_lover"]
    assert "bought in Tea in the last 30 days" in reasons
    assert "never bought in Kitchen" in reasons


def test_the_admin_form_and_the_service_give_the_same_audience(client, manager, shop):
    template = EmailTemplate.objects.create(name="Hi", subject="Hi", body_text="Hi")
    campaign = Campaign.objects.create(name="By form", template=template)
    client.force_login(manager)
    data = {"name": campaign.name, "kind": "custom", "template": template.pk,
            "trigger": "manual", "event": "", "delay_days": 0, "holdout_percent": 10,
            "uplift_window_days": 30, "coupon_kind": "", "coupon_valid_days": 30,
            "bought_products": [_id("TEA"), _id("POT")], "bought_within_days": "30",
            "not_bought_categories": ["Bath"], "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0}

    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    response = client.post(reverse("admin:campaigns_campaign_change", args=[campaign.pk]), data)
    by_code = campaign_create(name="By code", template=template, audience={
        "bought_product_ids": [_id("POT"), _id("TEA")], "bought_within_days": 30,
        "not_bought_categories": ["Bath"]})

    assert "Kitchen" in page.content.decode()  # the catalogue's categories are offered
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.audience == {"bought_product_ids": [_id("TEA"), _id("POT")],
                                 "bought_within_days": 30, "not_bought_categories": ["Bath"]}
    for stored in (campaign, by_code):
        assert list(audience_contacts(AudienceCriteria.for_campaign(stored))) == [
            shop["tea_lover"]]


def test_the_form_shows_a_stored_audience(client, manager, shop):
    template = EmailTemplate.objects.create(name="Hi", subject="Hi", body_text="Hi")
    campaign = campaign_create(name="Stored", template=template, audience={
        "bought_categories": ["Gone"], "bought_within_days": 7})
    client.force_login(manager)

    html = client.get(reverse("admin:campaigns_campaign_change",
                              args=[campaign.pk])).content.decode()

    assert '<option value="Gone" selected>Gone</option>' in html
    assert 'name="bought_within_days" value="7"' in html


def test_the_filter_is_one_query(django_assert_num_queries, shop):
    criteria = AudienceCriteria.from_json({"bought_categories": ["Tea"],
                                           "not_bought_categories": ["Bath"]})
    with django_assert_num_queries(1):
        list(audience_contacts(criteria, now=timezone.now() - dt.timedelta(days=1)))
