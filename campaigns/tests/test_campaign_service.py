"""Campaigns are created and changed by one service (campaigns.campaign_service): the admin
form saves through it and shows its rules, so both doors store the same campaign and the same
schedule row, and refuse the same campaigns with the same message."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.urls import reverse
from django_celery_beat.models import PeriodicTask, PeriodicTasks

from campaigns.campaign_service import SURVEY_FIXED_MESSAGE, campaign_create, campaign_update
from campaigns.models import Campaign
from campaigns.tests.factories import CampaignFactory, EmailTemplateFactory
from feedback.defaults import SURVEY_CAMPAIGN_NAME

pytestmark = pytest.mark.django_db

# What the admin shows as fields and the service takes as stored values.
FORM = {"kind": "win_back", "trigger": "schedule", "event": "", "is_active": "on",
        "delay_days": 2, "holdout_percent": 20, "uplift_window_days": 45,
        "coupon_kind": "percent", "coupon_value": "15", "coupon_valid_days": 10,
        "stages": ["one_time", "repeat"], "p_buy_again_min": "20", "p_buy_again_max": "60",
        "days_since_last_min": 30, "runs-TOTAL_FORMS": 0, "runs-INITIAL_FORMS": 0}
STORED = {"kind": "win_back", "trigger": "schedule", "event": "", "is_active": True,
          "delay_days": 2, "holdout_percent": 20, "uplift_window_days": 45,
          "coupon_kind": "percent", "coupon_value": Decimal("15"), "coupon_valid_days": 10,
          "audience": {"stages": ["one_time", "repeat"], "p_buy_again_min": 0.2,
                       "p_buy_again_max": 0.6, "days_since_last_min": 30}}
_NOT_COMPARED = ("id", "name", "schedule", "created_by")


@pytest.fixture
def template():
    return EmailTemplateFactory(body_text="Hi {{ contact.first_name }}, {{ coupon.code }}")


@pytest.fixture
def admin_post(client, manager):
    client.force_login(manager)

    def post(campaign: Campaign | None, data: dict):
        url = (reverse("admin:campaigns_campaign_change", args=[campaign.pk]) if campaign
               else reverse("admin:campaigns_campaign_add"))
        return client.post(url, data)
    return post


def _stored(campaign: Campaign) -> dict:
    campaign.refresh_from_db()
    values = model_to_dict(campaign, exclude=_NOT_COMPARED)
    return {**values, "audience": campaign.audience}


def _schedule(campaign: Campaign) -> dict | None:
    """The periodic task row, less what names the campaign itself."""
    campaign.refresh_from_db()
    if campaign.schedule_id is None:
        return None
    task = PeriodicTask.objects.get(pk=campaign.schedule_id)
    assert task.args == f"[{campaign.pk}]"  # the task runs this campaign, no other
    return {"task": task.task, "enabled": task.enabled, "crontab": task.crontab_id}


def test_the_admin_and_the_service_create_the_same_campaign_and_schedule(admin_post, manager,
                                                                         sales_user, template):
    response = admin_post(None, {**FORM, "name": "By the admin", "template": template.pk,
                                 "owners": [sales_user.pk]})
    assert response.status_code == 302, response.content.decode()
    by_admin = Campaign.objects.get(name="By the admin")

    by_service = campaign_create(
        name="By the service", template=template, created_by=manager,
        **{**STORED, "audience": {**STORED["audience"], "owner_ids": [sales_user.pk]}})

    assert _stored(by_admin) == _stored(by_service)
    assert by_admin.created_by == by_service.created_by == manager
    assert _schedule(by_admin) == _schedule(by_service) == {
        "task": "campaigns.run_campaign", "enabled": True,
        "crontab": PeriodicTask.objects.get(pk=by_service.schedule_id).crontab_id}
    assert by_service.audience["owner_ids"] == [sales_user.pk]


def test_the_admin_and_the_service_change_a_campaign_and_its_schedule_alike(admin_post,
                                                                            template):
    by_admin = campaign_create(name="A", template=template, **STORED)
    by_service = campaign_create(name="B", template=template, **STORED)

    # Paused: the schedule stays, switched off.
    admin_post(by_admin, {**FORM, "name": "A", "template": template.pk, "is_active": ""})
    campaign_update(by_service, is_active=False)
    assert _stored(by_admin) == _stored(by_service)
    assert _schedule(by_admin)["enabled"] is _schedule(by_service)["enabled"] is False

    # Active again but started by hand: the schedule is off all the same.
    admin_post(by_admin, {**FORM, "name": "A", "template": template.pk, "trigger": "manual"})
    campaign_update(by_service, is_active=True, trigger="manual")
    assert _stored(by_admin) == _stored(by_service)
    assert _schedule(by_admin)["enabled"] is _schedule(by_service)["enabled"] is False

    # Scheduled again: the same row, on again.
    schedule_id = by_service.schedule_id
    admin_post(by_admin, {**FORM, "name": "A", "template": template.pk})
    campaign_update(by_service, trigger="schedule")
    assert _stored(by_admin) == _stored(by_service)
    assert _schedule(by_admin)["enabled"] is _schedule(by_service)["enabled"] is True
    assert by_service.schedule_id == schedule_id
    assert PeriodicTask.objects.filter(task="campaigns.run_campaign").count() == 2


def test_a_running_beat_hears_of_a_paused_or_resumed_schedule(template):
    """Beat's DatabaseScheduler re-reads its tasks only when PeriodicTasks says they changed;
    a queryset update of the row left a resumed campaign off in beat until it restarted."""
    campaign = campaign_create(name="Weekly", template=template, **STORED)
    PeriodicTasks.objects.all().delete()  # as if beat had read everything already

    campaign_update(campaign, is_active=False)
    paused_seen = PeriodicTasks.last_change()
    PeriodicTasks.objects.all().delete()
    campaign_update(campaign, is_active=True, name="Weekly offer")

    assert paused_seen is not None and PeriodicTasks.last_change() is not None
    task = PeriodicTask.objects.get(pk=campaign.schedule_id)
    assert task.enabled and task.name == f"Campaign {campaign.pk}: Weekly offer"


# (form changes, service changes, field the service reports, message)
RULES = [
    pytest.param({"trigger": "event", "event": ""}, {"trigger": "event", "event": ""},
                 "event", "Choose the event that starts this campaign.", id="event-missing"),
    pytest.param({"trigger": "event", "event": "nth_purchase"},
                 {"trigger": "event", "event": "nth_purchase"},
                 "event_purchase_number", "Which purchase? For example 5.", id="nth-number"),
    pytest.param({"trigger": "event", "event": "website_event"},
                 {"trigger": "event", "event": "website_event"},
                 "event_kind", "Choose the website action that starts this campaign.",
                 id="website-action"),
    pytest.param({"coupon_value": "0"}, {"coupon_value": Decimal("0")},
                 "coupon_value", "A coupon needs a value above zero.", id="coupon-zero"),
    pytest.param({"coupon_value": "150"}, {"coupon_value": Decimal("150")},
                 "coupon_value", "A percentage cannot be above 100.", id="percent-over-100"),
    pytest.param({"coupon_kind": "", "coupon_value": ""},
                 {"coupon_kind": "", "coupon_value": None},
                 "template", "This template shows a coupon", id="template-needs-coupon"),
    pytest.param({"p_buy_again_min": "70"},
                 {"audience": {**STORED["audience"], "p_buy_again_min": 0.7}},
                 "p_buy_again_min", "The minimum must not be above the maximum.",
                 id="audience-band"),
    pytest.param({"holdout_percent": 95}, {"holdout_percent": 95},
                 "__all__", "campaign_holdout_at_most_90", id="holdout-constraint"),
]


@pytest.mark.parametrize(("form", "fields", "field", "message"), RULES)
def test_each_rule_refuses_a_new_campaign_through_both_doors(admin_post, template, form,
                                                            fields, field, message):
    response = admin_post(None, {**FORM, "name": "Refused", "template": template.pk, **form})

    assert response.status_code == 200
    assert message in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        campaign_create(name="Refused", template=template, **{**STORED, **fields})
    assert any(message in text for text in refused.value.message_dict[field])
    assert not Campaign.objects.filter(name="Refused").exists()
    assert not PeriodicTask.objects.filter(task="campaigns.run_campaign").exists()


@pytest.mark.parametrize(("form", "fields", "field", "message"), RULES)
def test_each_rule_refuses_a_change_through_both_doors(admin_post, template, form, fields,
                                                      field, message):
    campaign = campaign_create(name="Kept", template=template, **STORED)
    before = _stored(campaign)

    response = admin_post(campaign, {**FORM, "name": "Kept", "template": template.pk, **form})
    assert response.status_code == 200
    assert message in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        campaign_update(Campaign.objects.get(pk=campaign.pk), **fields)
    assert any(message in text for text in refused.value.message_dict[field])
    assert _stored(campaign) == before


def test_the_survey_campaign_keeps_its_trigger_whichever_door():
    survey = Campaign.objects.get(name=SURVEY_CAMPAIGN_NAME)

    with pytest.raises(ValidationError) as refused:
        campaign_update(survey, trigger="schedule", name="Renamed")

    assert refused.value.message_dict["trigger"] == [str(SURVEY_FIXED_MESSAGE)]
    assert refused.value.message_dict["name"] == [str(SURVEY_FIXED_MESSAGE)]
    survey = campaign_update(Campaign.objects.get(name=SURVEY_CAMPAIGN_NAME), is_active=True)
    survey.refresh_from_db()
    assert survey.is_active and survey.trigger == "event" and survey.schedule_id is None


def test_the_service_takes_only_the_fields_a_caller_may_set():
    campaign = CampaignFactory()

    with pytest.raises(TypeError):
        campaign_update(campaign, schedule=None)
