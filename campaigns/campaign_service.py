"""Creating and changing campaigns: the one place their rules live.

    campaign = campaign_create(name=..., template=..., audience={...}, created_by=user)
    campaign_update(campaign, trigger=Campaign.Trigger.SCHEDULE, is_active=True)

Both validate the whole campaign first and raise one ValidationError keyed per field: the
model's own checks (choices, unique name, holdout at most 90%), then the rules below. Audience
problems are keyed by their criterion (`p_buy_again_min`, `owner_ids`, ...), since those are the
fields of `audience` the caller gave. A scheduled campaign's periodic task (django-celery-beat)
is created, switched on or off in the same transaction. Runs start in campaigns.services.

The admin form (campaigns.forms.CampaignForm) shows the rules' messages through
`campaign_problems` and saves through these two functions; nothing else holds a rule.
"""
import json
from collections.abc import Mapping

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from crm.shop import shop

from .audience import AudienceCriteria
from .models import Campaign
from .template_needs import (
    campaign_variant_problems, is_survey_campaign, needs_problems, template_needs,
)

# What a caller may set; created_by only when creating, schedule only through the sync below.
EDITABLE_FIELDS = ("name", "kind", "template", "is_active", "audience", "trigger", "event",
                   "event_purchase_number", "event_kind", "delay_days", "holdout_percent",
                   "uplift_window_days", "coupon_kind", "coupon_value", "coupon_valid_days")

# The survey campaign is started by feedback.services.surveys_queue (a purchase some days ago),
# never by a trigger of its own, and found by its name: these stay as shipped.
SURVEY_FIXED_FIELDS = ("name", "trigger", "event", "event_purchase_number", "event_kind",
                       "delay_days", "coupon_kind", "coupon_value", "coupon_valid_days")
SURVEY_FIXED_MESSAGE = _("Survey emails go out a few days after a purchase "
                         "(CRM_SURVEY_DELAY_DAYS); this is not changed here.")

DEFAULT_CRONTAB = {"minute": "0", "hour": "10", "day_of_week": "1"}  # Mondays 10:00

Problems = dict[str, list[str]]


def campaign_create(*, created_by=None, **fields) -> Campaign:
    """A new campaign from EDITABLE_FIELDS; ValidationError (per field) and nothing written
    when it breaks a rule."""
    campaign = Campaign(created_by=created_by)
    _assign(campaign, fields)
    return _save(campaign)


def campaign_update(campaign: Campaign, **fields) -> Campaign:
    """Change these fields of a saved campaign; ValidationError (per field) and nothing
    written when the result breaks a rule (the instance then keeps the values given)."""
    _assign(campaign, fields)
    return _save(campaign)


def campaign_validate(campaign: Campaign) -> None:
    """The model's checks and campaign_problems together, as one ValidationError."""
    errors: dict[str, list] = {}
    try:
        campaign.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    for field, messages in campaign_problems(campaign).items():
        errors.setdefault(field, []).extend(messages)
    if errors:
        raise ValidationError(errors)


def campaign_problems(campaign: Campaign) -> Problems:
    """Why this campaign, as about to be saved, may not be: per field, beyond the model's own
    field checks. A saved campaign is compared with its stored row (the survey campaign)."""
    stored = (Campaign.objects.filter(pk=campaign.pk).first()
              if campaign.pk is not None else None)
    is_survey = stored is not None and is_survey_campaign(stored)
    problems: Problems = {}
    _audience_problems(campaign.audience, problems)
    if is_survey:
        _survey_problems(campaign, stored, problems)
    else:  # the survey campaign has no trigger of its own
        _trigger_problems(campaign, problems)
    _coupon_problems(campaign, problems)
    _template_problems(campaign, is_survey, problems)
    return problems


def _add(problems: Problems, field: str, message) -> None:
    problems.setdefault(field, []).append(str(message))


def _audience_problems(audience: object, problems: Problems) -> None:
    try:
        AudienceCriteria.from_json(audience)
    except ValidationError as error:
        if not hasattr(error, "error_dict"):
            for message in error.messages:
                _add(problems, "audience", message)
            return
        for key, messages in error.message_dict.items():
            for message in messages:
                _add(problems, key, message)


def _survey_problems(campaign: Campaign, stored: Campaign, problems: Problems) -> None:
    for field in SURVEY_FIXED_FIELDS:
        if getattr(campaign, field) != getattr(stored, field):
            _add(problems, field, SURVEY_FIXED_MESSAGE)


def _trigger_problems(campaign: Campaign, problems: Problems) -> None:
    if campaign.trigger == Campaign.Trigger.EVENT and not campaign.event:
        _add(problems, "event", _("Choose the event that starts this campaign."))
    if campaign.event == Campaign.Event.NTH_PURCHASE and not campaign.event_purchase_number:
        _add(problems, "event_purchase_number", _("Which purchase? For example 5."))
    if campaign.event == Campaign.Event.WEBSITE_EVENT and not campaign.event_kind:
        _add(problems, "event_kind", _("Choose the website action that starts this "
                                       "campaign."))


def _coupon_problems(campaign: Campaign, problems: Problems) -> None:
    kind, value = campaign.coupon_kind, campaign.coupon_value
    if kind and (value is None or value <= 0):
        _add(problems, "coupon_value", _("A coupon needs a value above zero."))
    if kind == Campaign.CouponKind.PERCENT and value is not None and value > 100:
        _add(problems, "coupon_value", _("A percentage cannot be above 100."))


def _template_problems(campaign: Campaign, is_survey: bool, problems: Problems) -> None:
    """The template may only use what this campaign creates (coupon, referral code, survey
    links): campaigns.template_needs."""
    if campaign.template_id is None:  # missing: the model's own check says so
        return
    for problem in needs_problems(template_needs(campaign.template), is_survey=is_survey,
                                  kind=campaign.kind or "", coupon_kind=campaign.coupon_kind or "",
                                  event=campaign.event or ""):
        _add(problems, "template", problem)
    # Its test variants' templates too (a coupon taken away that a variant shows).
    for problem in campaign_variant_problems(campaign):
        _add(problems, NON_FIELD_ERRORS, problem)


def _assign(campaign: Campaign, fields: Mapping) -> None:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise TypeError(f"Not a campaign field one may set: {', '.join(sorted(unknown))}")
    for name, value in fields.items():
        setattr(campaign, name, value)


def _save(campaign: Campaign) -> Campaign:
    campaign_validate(campaign)
    with transaction.atomic():
        campaign.save()
        campaign_schedule_sync(campaign)
    return campaign


def campaign_schedule_sync(campaign: Campaign) -> None:
    """Keep a scheduled campaign's periodic task in step with the campaign (on by default
    Mondays 10:00; managers change the time under Periodic tasks): created for a scheduled
    campaign, enabled while it is active and scheduled, named after it."""
    task = (PeriodicTask.objects.filter(pk=campaign.schedule_id).first()
            if campaign.schedule_id else None)
    scheduled = campaign.trigger == Campaign.Trigger.SCHEDULE
    name = f"Campaign {campaign.pk}: {campaign.name}"[:200]
    if task is None:
        if not scheduled:
            return
        crontab, _created = CrontabSchedule.objects.get_or_create(
            **DEFAULT_CRONTAB, day_of_month="*", month_of_year="*",
            timezone=shop().time_zone)
        task = PeriodicTask.objects.create(name=name, task="campaigns.run_campaign",
                                           crontab=crontab, args=json.dumps([campaign.pk]),
                                           enabled=campaign.is_active)
        Campaign.objects.filter(pk=campaign.pk).update(schedule=task)
    elif (task.enabled, task.name) != (scheduled and campaign.is_active, name):
        task.enabled, task.name = scheduled and campaign.is_active, name
        # save(), never a queryset update: a running beat (DatabaseScheduler) re-reads its
        # tasks only when PeriodicTask.save() marks them changed, so an updated row stayed
        # off (or on) in beat until it restarted.
        task.save(update_fields=["enabled", "name", "last_run_at"])
    campaign.schedule = task
