"""Building journeys in tests: a campaign and its steps in one call.

    campaign = journey(email(), wait(7), condition("coupon_used", negate=True), email())
"""
import datetime as dt

from django.utils import timezone

from campaigns.models import Campaign, JourneyEnrollment, JourneyStep
from campaigns.tests.factories import CampaignFactory, EmailTemplateFactory
from customers.tests.factories import ContactFactory


def email(template=None, **template_fields) -> dict:
    return {"kind": JourneyStep.Kind.EMAIL,
            "template": template or EmailTemplateFactory(**template_fields)}


def wait(days: int) -> dict:
    return {"kind": JourneyStep.Kind.WAIT, "wait_days": days}


def condition(kind: str, *, negate: bool = False, stages=()) -> dict:
    return {"kind": JourneyStep.Kind.CONDITION, "condition": kind, "negate": negate,
            "stages": list(stages)}


def journey(*steps: dict, **fields) -> Campaign:
    """An active event journey (first purchase, nobody held out unless said) with these
    steps at positions 1, 2, ..."""
    values = {"is_active": True, "trigger": Campaign.Trigger.EVENT,
              "event": Campaign.Event.FIRST_PURCHASE, "holdout_percent": 0, **fields}
    campaign = CampaignFactory(**values)
    for position, step in enumerate(steps, 1):
        JourneyStep.objects.create(campaign=campaign, position=position, **step)
    return campaign


def consenting(**fields):
    return ContactFactory(marketing_consent=True, **fields)


def enrolled(campaign: Campaign, contact=None, *, held_out: bool = False,
             started_at: dt.datetime | None = None, key: str = "") -> JourneyEnrollment:
    """An enrollment written directly (the entry itself is tested in test_journeys_enroll)."""
    now = started_at or timezone.now()
    return JourneyEnrollment.objects.create(
        campaign=campaign, contact=contact or consenting(), held_out=held_out, key=key,
        started_at=now, next_at=now)


def days(n: float) -> dt.timedelta:
    return dt.timedelta(days=n)
