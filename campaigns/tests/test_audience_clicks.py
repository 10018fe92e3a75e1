"""Audiences on clicks: "clicked in the last 30 days" and "received 5 and clicked none", the
same from the criteria JSON and the admin's campaign form."""
import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.audience import AudienceCriteria, audience_contacts, audience_sample
from campaigns.forms import CampaignForm
from campaigns.models import LinkClick
from campaigns.tests.factories import EmailTemplateFactory, MessageFactory
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def emailed(contact, count: int, *, days_ago: int = 40) -> list:
    sent_at = timezone.now() - dt.timedelta(days=days_ago)
    return [MessageFactory(contact=contact, status="sent", sent_at=sent_at)
            for _ in range(count)]


def click(message, *, days_ago: int, kind: str = "click") -> None:
    LinkClick.objects.create(message=message, contact=message.contact, kind=kind,
                             url="" if kind == "open" else "https://shop.example.com/",
                             url_hash=f"{kind}{days_ago}",
                             clicked_at=timezone.now() - dt.timedelta(days=days_ago))


@pytest.fixture
def people():
    recent, old, silent, few, opener = (ContactFactory(marketing_consent=True)
                                        for _ in range(5))
    click(emailed(recent, 1)[0], days_ago=3)
    click(emailed(old, 6)[0], days_ago=60)
    emailed(silent, 5)
    emailed(few, 4)
    click(emailed(opener, 5)[0], days_ago=2, kind="open")  # an open is no click
    return {"recent": recent, "old": old, "silent": silent, "few": few, "opener": opener}


def members(audience: dict) -> set:
    return set(audience_contacts(AudienceCriteria.from_json(audience)))


def test_clicked_in_the_last_30_days(people):
    assert members({"clicked_within_days": 30}) == {people["recent"]}
    assert members({"clicked_within_days": 90}) == {people["recent"], people["old"]}


def test_received_five_and_clicked_none(people):
    assert members({"no_click_after_emails": 5}) == {people["silent"], people["opener"]}


@pytest.mark.parametrize("value", [0, -1, "5", True, 1001])
def test_bad_values_are_refused_per_field(value):
    with pytest.raises(ValidationError) as caught:
        AudienceCriteria.from_json({"no_click_after_emails": value})
    assert "no_click_after_emails" in caught.value.message_dict


def test_the_admin_form_stores_the_same_criteria(people):
    form = CampaignForm(data={"name": "Sessizler", "kind": "win_back", "is_active": "",
                              "template": EmailTemplateFactory().pk, "trigger": "manual",
                              "holdout_percent": 10, "uplift_window_days": 30,
                              "no_click_after_emails": 5, "delay_days": 0,
                              "coupon_kind": "", "coupon_valid_days": 30})

    assert form.is_valid(), form.errors
    assert form.cleaned_audience == {"no_click_after_emails": 5}
    assert members(form.cleaned_audience) == {people["silent"], people["opener"]}


def test_the_sample_says_why(people):
    sample = audience_sample(AudienceCriteria.from_json({"clicked_within_days": 30}))

    assert [reasons[-1] for _contact, reasons in sample] == [
        "clicked a link in our emails in the last 30 days"]
