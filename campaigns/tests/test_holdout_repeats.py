"""A campaign run again: a contact emailed or held out stays so for the measurement window,
a repeated run reaches only new people, and the results count every contact once, through
repeats, purchases in between, a worker killed half way and a crash while building."""
import datetime as dt
import random
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.outbox import batch as outbox_batch
from campaigns.audience import AudienceCriteria, audience_contacts
from campaigns.measurement import campaign_uplift
from campaigns.models import Campaign, CampaignRun, Message
from campaigns.outbox import recover_stuck_messages, send_due_messages
from campaigns.smtp import Outbound
from campaigns.services import campaign_run_plan, campaign_run_start
from campaigns.tests.factories import EmailTemplateFactory
from customers.tests.factories import ContactFactory, record_purchase

Status = Message.Status
EMAILED = (Status.SENT, Status.UNKNOWN)  # UNKNOWN: the contact may have got it
ASSIGNED = (*EMAILED, Status.BOUNCED, Status.HELD_OUT)


def _campaign(**values) -> Campaign:
    values.setdefault("holdout_percent", 20)
    values.setdefault("audience", {"stages": ["one_time"]})
    return Campaign.objects.create(name=f"c-{Campaign.objects.count()}",
                                   template=EmailTemplateFactory(), **values)


def _buyer():
    contact = ContactFactory(marketing_consent=True)
    record_purchase(contact, days_ago=40)
    return contact


def _drain() -> None:
    while send_due_messages().claimed:
        pass


def _contacts(campaign: Campaign, *statuses: str) -> set[int]:
    return set(Message.objects.filter(campaign=campaign, status__in=statuses)
               .values_list("contact_id", flat=True))


# --- Two clicks ---------------------------------------------------------------------------------

@pytest.mark.django_db
def test_start_clicked_twice_a_minute_apart_emails_nobody_the_first_run_held_out():
    buyers = [_buyer() for _ in range(40)]
    campaign = _campaign(holdout_percent=25)
    now = timezone.now()

    first = campaign_run_start(campaign=campaign, now=now - dt.timedelta(minutes=1))
    _drain()
    second = campaign_run_start(campaign=campaign, now=now)
    _drain()

    held_out = _contacts(campaign, Status.HELD_OUT)
    emailed = _contacts(campaign, *EMAILED)
    report = campaign_uplift(campaign)
    assert len(held_out) == 10 and len(emailed) == 30
    assert emailed & held_out == set()
    assert second.messages.count() == 0 and first.messages.count() == 40
    assert len(mail.outbox) == 30
    assert report.result.emailed.contacts + report.result.held_out.contacts == len(buyers)


@pytest.mark.django_db
def test_a_repeated_run_reaches_only_contacts_new_to_the_audience():
    [_buyer() for _ in range(20)]
    campaign = _campaign(holdout_percent=50)
    campaign_run_start(campaign=campaign)
    newcomers = {_buyer().pk for _ in range(6)}

    second = campaign_run_start(campaign=campaign)

    assert set(second.messages.values_list("contact_id", flat=True)) == newcomers
    assert second.messages.filter(status=Status.HELD_OUT).count() == 3


@pytest.mark.django_db
def test_suppressed_or_capped_contacts_may_be_tried_again_by_a_later_run():
    """They were neither emailed nor held out: not a unit of the measurement yet."""
    contact = _buyer()
    campaign = _campaign(holdout_percent=0)
    first = campaign_run_start(campaign=campaign)
    first.messages.update(status=Status.CAPPED)

    second = campaign_run_start(campaign=campaign)

    assert list(second.messages.values_list("contact_id", "status")) == [
        (contact.pk, Status.QUEUED)]


@pytest.mark.django_db
def test_after_the_window_a_contact_is_a_fresh_unit_and_is_counted_once():
    buyers = [_buyer() for _ in range(10)]
    campaign = _campaign(holdout_percent=30, uplift_window_days=30)
    now = timezone.now()
    first = campaign_run_start(campaign=campaign, now=now - dt.timedelta(days=31))
    first_groups = dict(first.messages.values_list("contact_id", "status"))
    _drain()
    first.messages.filter(status=Status.SENT).update(sent_at=now - dt.timedelta(days=31))

    inside = campaign_run_plan(campaign, now=now - dt.timedelta(days=2))
    second = campaign_run_start(campaign=campaign, now=now)

    report = campaign_uplift(campaign, now=now)
    assert (inside.emailed, inside.held_out, inside.reached) == (0, 0, 10)
    assert second.messages.count() == 10
    assert report.result.emailed.contacts + report.result.held_out.contacts == len(buyers)
    assert report.result.held_out.contacts == sum(
        status == Status.HELD_OUT for status in first_groups.values())  # the first assignment


@pytest.mark.django_db
def test_results_count_rows_written_before_the_rule_once_in_their_first_group():
    """The issue's campaign page: 2,844 + 574 from an audience of 2,873. Rows of overlapping
    runs, as the old code wrote them, count each contact once, in their first group."""
    contacts = [_buyer() for _ in range(4)]
    campaign = _campaign()
    sent_at = timezone.now() - dt.timedelta(days=1)
    for number, statuses in enumerate([(Status.HELD_OUT, Status.SENT, Status.SENT, Status.SENT),
                                       (Status.SENT, Status.HELD_OUT, Status.SENT, Status.SENT)]):
        run = CampaignRun.objects.create(campaign=campaign, key=f"old-{number}")
        for contact, status in zip(contacts, statuses):
            Message.objects.create(run=run, campaign=campaign, contact=contact, status=status,
                                   message_id=f"<{number}.{contact.pk}@test>",
                                   not_before=sent_at, sent_at=sent_at)

    result = campaign_uplift(campaign).result

    assert (result.emailed.contacts, result.held_out.contacts) == (3, 1)


# --- "Run now" in the admin ---------------------------------------------------------------------

@pytest.mark.django_db
def test_run_now_shows_the_counts_and_starts_only_when_confirmed(client, manager):
    [_buyer() for _ in range(20)]
    campaign = _campaign(holdout_percent=25)
    url = reverse("admin:campaigns_campaign_start", args=[campaign.pk])
    client.force_login(manager)

    page = client.get(url).content.decode()
    unconfirmed = client.post(url)
    started = client.post(url, {"confirm": "yes"})
    again = client.get(url).content.decode()

    assert "15 contacts will be emailed." in page and "5 contacts will be held out" in page
    assert unconfirmed.status_code == 200  # the confirmation again, nothing started
    assert started.status_code == 302
    assert CampaignRun.objects.filter(campaign=campaign).count() == 1
    assert "0 contacts will be emailed." in again and "0 contacts will be held out" in again
    assert "20 contacts of the audience were emailed or held out" in again
    assert "Nobody to reach" in again and 'name="confirm"' not in again


@pytest.mark.django_db
def test_the_confirmation_needs_the_csrf_token(manager):
    [_buyer() for _ in range(3)]
    campaign = _campaign()
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)

    response = client.post(reverse("admin:campaigns_campaign_start", args=[campaign.pk]),
                           {"confirm": "yes"})

    assert response.status_code == 403 and not CampaignRun.objects.exists()


# --- Concurrency (PostgreSQL) -------------------------------------------------------------------

@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_runs_started_at_the_same_moment_assign_nobody_twice():
    [_buyer() for _ in range(30)]
    campaign = _campaign(holdout_percent=30)
    barrier, errors = threading.Barrier(2), []

    def start() -> None:
        try:
            barrier.wait()
            campaign_run_start(campaign=campaign)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=start) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    rows = list(Message.objects.filter(campaign=campaign).values_list("contact_id", flat=True))
    assert errors == []
    assert CampaignRun.objects.filter(campaign=campaign).count() == 2
    assert len(rows) == len(set(rows)) == 30


# --- Property: repeats, purchases, a killed worker, a crashed build -----------------------------

class Clock:
    """timezone.now() for the whole test: moved on by hand, a millisecond per reading."""

    def __init__(self, start: dt.datetime) -> None:
        self.at = start

    def __call__(self) -> dt.datetime:
        self.at += dt.timedelta(milliseconds=1)
        return self.at


class Killed(BaseException):
    """SIGKILL: the worker stops where it is; nothing after it runs."""


def _send_until_killed(monkeypatch, after: int, batch: int) -> bool:
    """Send with a worker that dies just after handing its (after+1)th email over: the rows
    it claimed stay SENDING, the last one with the hand-off mark, as a real kill leaves them
    (see test_sending_faults.py for the same with a real SIGKILL)."""
    real_send, sent = Outbound.send, []

    def send(self, email) -> None:
        if len(sent) == after:
            raise Killed
        real_send(self, email)
        sent.append(email)

    with monkeypatch.context() as patch:
        patch.setattr(Outbound, "send", send)
        patch.setattr(outbox_batch, "_settle_after_error", lambda *args, **kwargs: None)
        try:
            while send_due_messages(limit=batch).claimed:
                pass
        except Killed:
            return True
    return False  # every row was blocked at send time: the kill never came


def _crashing_build(monkeypatch, campaign: Campaign, now: dt.datetime) -> None:
    """The process dies half way through building a run: nothing of it may remain."""
    def crash(*args, **kwargs):
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(services, "_run_extras", crash)
        with pytest.raises(Killed):
            campaign_run_start(campaign=campaign, now=now)


def _purchases(rng: random.Random, campaign: Campaign) -> None:
    """Some buyers buy again (and leave a one-time audience), newcomers buy for the first time."""
    one_time = list(audience_contacts(AudienceCriteria.from_json(campaign.audience))
                    .order_by("pk"))
    for contact in rng.sample(one_time, k=min(len(one_time), rng.randint(0, 4))):
        record_purchase(contact, days_ago=rng.choice([0, 0.5]))
    for _ in range(rng.randint(0, 5)):
        record_purchase(ContactFactory(marketing_consent=True), days_ago=rng.choice([0, 1, 3]))


def _window_start(row: dict) -> dt.datetime:
    return row["sent_at"] or row["not_before"]


def _assert_assigned_once_per_window(campaign: Campaign) -> None:
    """No contact got a second assignment while an earlier one was being measured."""
    window = dt.timedelta(days=campaign.uplift_window_days)
    rows = (Message.objects.filter(campaign=campaign, status__in=ASSIGNED)
            .order_by("contact_id", "id")
            .values("contact_id", "status", "sent_at", "not_before", "run__started_at"))
    previous = None
    for row in rows:
        if previous and previous["contact_id"] == row["contact_id"]:
            assert row["run__started_at"] >= _window_start(previous) + window, (previous, row)
        previous = row


@pytest.mark.django_db
@pytest.mark.parametrize("seed", range(6))
def test_repeated_runs_keep_the_groups_apart_and_count_everyone_once(monkeypatch, seed):
    rng = random.Random(seed)
    clock = Clock(timezone.now() - dt.timedelta(days=200))
    monkeypatch.setattr(timezone, "now", clock)
    for _ in range(rng.randint(15, 30)):
        _buyer()
    campaign = _campaign(holdout_percent=rng.choice([10, 25, 50]),
                         uplift_window_days=rng.choice([5, 30]))
    runs = rng.randint(3, 6)
    killed_in, crashed_in = rng.randrange(runs), rng.randrange(runs)
    audience: set[int] = set()

    for number in range(runs):
        _purchases(rng, campaign)
        now = clock()
        audience |= set(audience_contacts(AudienceCriteria.from_json(campaign.audience), now=now)
                        .values_list("pk", flat=True))
        if number == crashed_in:
            before = Message.objects.count()
            _crashing_build(monkeypatch, campaign, now)
            assert Message.objects.count() == before
            assert not CampaignRun.objects.filter(started_at=now).exists()
        plan = campaign_run_plan(campaign, now=now)
        run = campaign_run_start(campaign=campaign, now=now)
        assert run.messages.filter(status=Status.QUEUED).count() == plan.emailed
        assert run.messages.filter(status=Status.HELD_OUT).count() == plan.held_out
        # The killed worker's rows stay SENDING until recovery: the next run must see them.
        recover_stuck_messages(now=clock() + dt.timedelta(hours=1))
        if number == killed_in:
            queued = run.messages.filter(status=Status.QUEUED).count()
            if _send_until_killed(monkeypatch, after=queued // 2, batch=max(2, queued // 3)):
                assert run.messages.filter(status=Status.SENDING).exists()
        else:
            _drain()
        clock.at += dt.timedelta(minutes=rng.choice([1, 60 * 3, 60 * 24 * 3, 60 * 24 * 40]))
    recover_stuck_messages(now=clock() + dt.timedelta(hours=1))
    _drain()

    window = dt.timedelta(days=campaign.uplift_window_days)
    emailed, held_out = _contacts(campaign, *EMAILED), _contacts(campaign, Status.HELD_OUT)
    if clock.at - min(Message.objects.values_list("not_before", flat=True)) < window:
        assert emailed & held_out == set()  # all of it inside one window
    _assert_assigned_once_per_window(campaign)
    assert emailed | held_out <= audience
    # Each email arrived once (the killed one perhaps not at all).
    delivered = [email.extra_headers["Message-ID"] for email in mail.outbox]
    assert len(delivered) == len(set(delivered))
    assert Message.objects.filter(campaign=campaign, status=Status.UNKNOWN).count() <= 1
    # The results: every contact once, in the group of their first assignment.
    first: dict[int, str] = {}
    for contact_id, status in (Message.objects.filter(campaign=campaign, status__in=[
            Status.SENT, Status.HELD_OUT]).order_by("id").values_list("contact_id", "status")):
        first.setdefault(contact_id, status)
    result = campaign_uplift(campaign, now=clock()).result
    assert result.emailed.contacts == sum(s == Status.SENT for s in first.values())
    assert result.held_out.contacts == sum(s == Status.HELD_OUT for s in first.values())
    assert result.emailed.contacts + result.held_out.contacts == len(first) <= len(audience)
