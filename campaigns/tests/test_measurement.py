"""Campaign uplift from the outbox and purchases, aggregated in SQL; and sending progress."""
import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from campaigns.measurement import campaign_progress, campaign_uplift
from campaigns.models import Campaign, CampaignRun, EmailTemplate, Message
from campaigns.uplift import GroupStats, UpliftStatus, uplift
from customers.services.purchases import purchase_record
from customers.services.refunds import purchase_refund
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
Status = Message.Status
NOW = timezone.now().replace(microsecond=0)
T = NOW - dt.timedelta(days=60)  # when the run went out


def _campaign(name="c", **values) -> Campaign:
    template, _ = EmailTemplate.objects.get_or_create(name="t", subject="Hi", body_text="Hello")
    return Campaign.objects.create(name=name, template=template, **values)


def _run(campaign: Campaign) -> CampaignRun:
    return CampaignRun.objects.create(campaign=campaign, key=f"k{CampaignRun.objects.count()}",
                                      started_at=T)


def _message(run: CampaignRun, status: str, *, at: dt.datetime = T) -> Message:
    contact = ContactFactory()
    return Message.objects.create(
        run=run, campaign=run.campaign, contact=contact, status=status,
        message_id=f"<{Message.objects.count()}@test>", not_before=at,
        sent_at=at if status == Status.SENT else None)


def _buy(message: Message, amount: str, *, at: dt.datetime):
    return purchase_record(contact=message.contact, purchased_at=at, amount=Decimal(amount),
                           currency="USD").purchase


def test_groups_count_live_purchases_inside_each_window_only(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    campaign = _campaign(uplift_window_days=30)
    run = _run(campaign)
    a, b, c, d, e = (_message(run, Status.SENT) for _ in range(5))
    _buy(a, "10", at=T)                                   # at the very start: counts
    _buy(a, "30", at=T + dt.timedelta(days=29, hours=23))
    _buy(b, "20", at=T + dt.timedelta(days=30))          # the window's end is excluded
    _buy(c, "50", at=T - dt.timedelta(seconds=1))        # before the email
    purchase_refund(purchase=_buy(d, "80", at=T + dt.timedelta(days=3)))
    _buy(e, "6", at=T + dt.timedelta(days=1))
    f, _g = _message(run, Status.HELD_OUT), _message(run, Status.HELD_OUT)
    _buy(f, "15", at=T + dt.timedelta(days=5))
    _buy(_message(run, Status.FAILED), "99", at=T + dt.timedelta(days=1))  # in neither group
    other = _run(_campaign("other"))
    _buy(_message(other, Status.SENT), "99", at=T + dt.timedelta(days=1))

    report = campaign_uplift(campaign, now=NOW)

    assert report.window_days == 30
    assert report.result.emailed == GroupStats(5, 2, revenue_sum=46.0, revenue_sum_squares=1636.0)
    assert report.result.held_out == GroupStats(2, 1, revenue_sum=15.0,
                                                revenue_sum_squares=225.0)
    assert report.result == uplift(report.result.emailed, report.result.held_out)
    assert report.result.response_rate.estimate == pytest.approx(2 / 5 - 1 / 2)
    assert report.result.revenue_per_contact.estimate == pytest.approx(46 / 5 - 15 / 2)
    assert report.open_windows == 0


def test_held_out_windows_start_when_the_row_became_due():
    campaign = _campaign(uplift_window_days=10)
    run = _run(campaign)
    due = T + dt.timedelta(days=7)  # e.g. an event campaign with a delay
    held = _message(run, Status.HELD_OUT, at=due)
    _buy(held, "10", at=due - dt.timedelta(days=1))
    _buy(held, "20", at=due + dt.timedelta(days=9))
    _message(run, Status.SENT)

    report = campaign_uplift(campaign, now=NOW)

    assert report.result.held_out == GroupStats(1, 1, revenue_sum=20.0, revenue_sum_squares=400.0)


def test_window_can_be_overridden_and_open_windows_are_counted():
    campaign = _campaign(uplift_window_days=30)
    run = _run(campaign)
    late = _message(run, Status.SENT)
    _buy(late, "20", at=T + dt.timedelta(days=35))
    _message(run, Status.HELD_OUT, at=NOW - dt.timedelta(days=5))

    assert campaign_uplift(campaign, now=NOW).result.emailed.responders == 0
    report = campaign_uplift(campaign, window_days=40, now=NOW)
    assert report.window_days == 40
    assert report.result.emailed == GroupStats(1, 1, revenue_sum=20.0, revenue_sum_squares=400.0)
    assert report.open_windows == 1


def test_all_runs_of_the_campaign_are_pooled():
    campaign = _campaign()
    for _ in range(2):
        run = _run(campaign)
        _buy(_message(run, Status.SENT), "10", at=T + dt.timedelta(days=1))
        _message(run, Status.HELD_OUT)

    report = campaign_uplift(campaign, now=NOW)

    assert (report.result.emailed.contacts, report.result.emailed.responders) == (2, 2)
    assert (report.result.held_out.contacts, report.result.held_out.responders) == (2, 0)
    assert report.result.status is UpliftStatus.OK
    assert report.status_text.startswith("Emailed against held-out contacts")


def test_campaign_with_nothing_sent_reports_so():
    campaign = _campaign()
    _message(_run(campaign), Status.QUEUED)

    report = campaign_uplift(campaign, now=NOW)

    assert report.result.status is UpliftStatus.NO_EMAILED
    assert report.result.emailed == GroupStats(0, 0)
    assert report.status_text == "Nothing has been sent yet."


def test_uplift_is_two_queries(django_assert_num_queries):
    campaign = _campaign()
    run = _run(campaign)
    for _ in range(5):
        _buy(_message(run, Status.SENT), "10", at=T + dt.timedelta(days=1))
        _message(run, Status.HELD_OUT)

    with django_assert_num_queries(2):
        campaign_uplift(campaign, now=NOW)


def test_progress_counts_every_status_for_a_run_or_the_campaign():
    campaign = _campaign()
    first, second = _run(campaign), _run(campaign)
    for status in (Status.SENT, Status.SENT, Status.HELD_OUT, Status.QUEUED):
        _message(first, status)
    _message(second, Status.FAILED)

    by_run = campaign_progress(first)
    by_campaign = campaign_progress(campaign)

    assert by_run == {**dict.fromkeys(Status.values, 0), "sent": 2, "held_out": 1, "queued": 1}
    assert by_campaign == {**by_run, "failed": 1}
    assert list(by_run) == Status.values
