"""Starting campaigns: the outbox is written once, with an exact random holdout, from the audience."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.models import Campaign, CampaignRun, Coupon, EmailTemplate, Message, ReferralCode
from campaigns.services import campaign_event, campaign_run_start
from campaigns.triggers import purchase_recorded_task, run_campaign_task
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


def _campaign(**values) -> Campaign:
    template = EmailTemplate.objects.create(
        name=f"t-{Campaign.objects.count()}", subject="Hi {{ contact.first_name }}",
        # {{ coupon }} only where the campaign gives one (campaigns.template_needs).
        body_text=("Code {{ coupon.code }} " if values.get("coupon_kind") else "Hi ")
        + "{{ unsubscribe_url }}")
    values.setdefault("name", f"c-{Campaign.objects.count()}")
    values.setdefault("audience", {"stages": ["one_time"]})
    return Campaign.objects.create(template=template, **values)


def _buyers(count: int, *, consent: bool = True, purchases: int = 1):
    contacts = []
    for _ in range(count):
        contact = ContactFactory()
        for index in range(purchases):
            record_purchase(contact, days_ago=40 + index * 10)
        if consent:
            contact_set_consent(contact=contact, consent=True, source="test")
        contacts.append(contact)
    return contacts


def test_a_run_writes_one_message_per_contact_with_an_exact_random_holdout():
    buyers = _buyers(40)
    _buyers(5, consent=False)
    campaign = _campaign(holdout_percent=10)

    run = campaign_run_start(campaign=campaign)

    rows = Message.objects.filter(run=run)
    assert run.status == CampaignRun.Status.SENDING
    assert rows.count() == 40
    assert set(rows.values_list("contact_id", flat=True)) == {c.pk for c in buyers}
    assert rows.filter(status=Message.Status.HELD_OUT).count() == 4
    assert rows.filter(status=Message.Status.QUEUED).count() == 36
    assert len(set(rows.values_list("message_id", flat=True))) == 40
    assert all(row.to_email for row in rows)


def test_the_holdout_is_random_not_the_same_contacts_every_time():
    _buyers(60)
    # Two campaigns over one audience (a second run of one campaign reaches nobody new: see
    # test_holdout_repeats.py).
    one, other = _campaign(holdout_percent=50), _campaign(holdout_percent=50)

    first = set(campaign_run_start(campaign=one).messages.filter(
        status=Message.Status.HELD_OUT).values_list("contact_id", flat=True))
    second = set(campaign_run_start(campaign=other).messages.filter(
        status=Message.Status.HELD_OUT).values_list("contact_id", flat=True))

    assert len(first) == len(second) == 30
    assert first != second


def test_the_same_key_builds_one_run_only():
    _buyers(3)
    campaign = _campaign()

    first = campaign_run_start(campaign=campaign, key="schedule:2026-12-01")
    second = campaign_run_start(campaign=campaign, key="schedule:2026-12-01")

    assert first is not None and second is None
    assert Message.objects.count() == 3


def test_a_scheduled_trigger_delivered_twice_the_same_day_runs_once():
    _buyers(3)
    campaign = _campaign(trigger=Campaign.Trigger.SCHEDULE, is_active=True)

    run_campaign_task(campaign.pk)
    run_campaign_task(campaign.pk)

    assert CampaignRun.objects.filter(campaign=campaign).count() == 1


def test_an_inactive_scheduled_campaign_does_not_run():
    _buyers(3)
    campaign = _campaign(trigger=Campaign.Trigger.SCHEDULE, is_active=False)

    run_campaign_task(campaign.pk)

    assert not CampaignRun.objects.exists()


def test_coupons_are_issued_for_emailed_contacts_only():
    _buyers(20)
    campaign = _campaign(holdout_percent=20, coupon_kind=Campaign.CouponKind.PERCENT,
                         coupon_value=Decimal("10"), coupon_valid_days=30)

    run = campaign_run_start(campaign=campaign)

    queued = run.messages.filter(status=Message.Status.QUEUED)
    assert not queued.filter(coupon__isnull=True).exists()
    assert not run.messages.filter(status=Message.Status.HELD_OUT, coupon__isnull=False).exists()
    assert Coupon.objects.filter(campaign=campaign).count() == queued.count() == 16


def test_a_referral_campaign_gives_every_emailed_contact_a_referral_code():
    buyers = _buyers(5, purchases=2)
    campaign = _campaign(kind=Campaign.Kind.REFERRAL, holdout_percent=0,
                         audience={"stages": ["repeat"]})

    campaign_run_start(campaign=campaign)

    assert set(ReferralCode.objects.values_list("contact_id", flat=True)) == {
        c.pk for c in buyers}


def test_a_first_purchase_starts_the_event_campaign_once_with_its_delay():
    campaign = _campaign(trigger=Campaign.Trigger.EVENT, event=Campaign.Event.FIRST_PURCHASE,
                         delay_days=3, holdout_percent=0, is_active=True)
    contact = ContactFactory()
    contact_set_consent(contact=contact, consent=True, source="test")
    record_purchase(contact, days_ago=0)
    before = timezone.now()

    purchase_recorded_task(contact.pk)
    purchase_recorded_task(contact.pk)  # delivered twice
    campaign_event(contact_id=contact.pk, event=Campaign.Event.FIRST_PURCHASE)

    message = Message.objects.get(campaign=campaign)
    assert message.contact_id == contact.pk and message.status == Message.Status.QUEUED
    assert message.not_before >= before + dt.timedelta(days=3) - dt.timedelta(seconds=5)


def test_the_nth_purchase_event_fires_at_that_purchase_only():
    campaign = _campaign(trigger=Campaign.Trigger.EVENT, event=Campaign.Event.NTH_PURCHASE,
                         event_purchase_number=3, holdout_percent=0, is_active=True,
                         audience={"stages": ["repeat"]})
    contact = ContactFactory()
    contact_set_consent(contact=contact, consent=True, source="test")

    for days_ago in (30, 20, 10, 5):
        record_purchase(contact, days_ago=days_ago)
        purchase_recorded_task(contact.pk)

    assert Message.objects.filter(campaign=campaign).count() == 1


def test_event_campaigns_respect_their_audience():
    campaign = _campaign(trigger=Campaign.Trigger.EVENT, event=Campaign.Event.FIRST_PURCHASE,
                         holdout_percent=0, is_active=True)
    no_consent = ContactFactory()
    record_purchase(no_consent, days_ago=0)

    purchase_recorded_task(no_consent.pk)

    assert not Message.objects.filter(campaign=campaign).exists()


def test_the_shipped_campaigns_are_there_and_switched_off():
    shipped = Campaign.objects.filter(kind__in=["convert", "thank", "win_back", "referral"])

    # Five one-email campaigns; the shipped journeys of these kinds are off too.
    assert shipped.filter(steps__isnull=True).count() == 5
    assert not shipped.filter(is_active=True).exists()


def test_a_referral_ask_can_go_to_promoters_only():
    from feedback.services import survey_answer
    from feedback.tests.factories import SurveyInviteFactory

    happy, unhappy, silent = _buyers(3, purchases=2)
    survey_answer(invite=SurveyInviteFactory(contact=happy), score=10)
    survey_answer(invite=SurveyInviteFactory(contact=unhappy), score=4)
    campaign = _campaign(kind=Campaign.Kind.REFERRAL, holdout_percent=0,
                         audience={"stages": ["repeat"], "nps_promoter": True})

    run = campaign_run_start(campaign=campaign)

    assert list(run.messages.values_list("contact_id", flat=True)) == [happy.pk]


def test_audiences_can_take_or_leave_unhappy_customers_and_open_cases():
    from campaigns.audience import AudienceCriteria, audience_contacts
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory
    from support.services import case_open

    unhappy, with_case, plain = _buyers(3)
    invite = SurveyInviteFactory(contact=unhappy)
    # Recorded directly: the service would also pause promotions, which hides them anyway.
    SurveyResponse.objects.create(invite=invite, contact=unhappy, score=3)
    case_open(contact=with_case, subject="Late parcel", channel="phone")

    def chosen(**criteria):
        return set(audience_contacts(AudienceCriteria.from_json(
            {"stages": ["one_time"], **criteria})).values_list("pk", flat=True))

    assert chosen(nps_detractor=True) == {unhappy.pk}
    assert chosen(nps_detractor=False) == {with_case.pk, plain.pk}
    assert chosen(open_case=True) == {with_case.pk}
    assert chosen(open_case=False) == {unhappy.pk, plain.pk}


def test_a_score_based_campaign_started_before_any_scoring_run_emails_nobody():
    ContactFactory(marketing_consent=True)
    convert = Campaign.objects.get(name="Convert one-time buyers")  # needs scores

    run = campaign_run_start(campaign=convert)

    assert run is not None
    assert run.messages.count() == 0
