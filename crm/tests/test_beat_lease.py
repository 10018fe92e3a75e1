"""Two beats against one database: only the lease holder sends; a standby takes over when the
holder's lease runs out or it stops; every run is counted once (crm/beat.py)."""
import datetime as dt
import logging
import time

import pytest
from django.utils import timezone
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm.beat import LeasedDatabaseScheduler
from crm.celery import app
from crm.models import BeatLease, BeatProcess

# Autocommit, as a real beat runs: the scheduler commits and closes old connections itself.
pytestmark = pytest.mark.django_db(transaction=True)

JOB = "test: every tick"


@pytest.fixture(autouse=True)
def _only_test_jobs(settings):
    settings.CRM_BEAT_CHECK_SECONDS = 0  # check the lease on every tick
    settings.CRM_BEAT_LEASE_SECONDS = 30
    PeriodicTask.objects.update(enabled=False)


def periodic_job(name: str = JOB, *, every: int = 1, period: str = IntervalSchedule.MICROSECONDS,
                 last_run_ago: dt.timedelta = dt.timedelta(hours=2)) -> PeriodicTask:
    """A job due at once (and, every microsecond, due again at every tick)."""
    interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
    return PeriodicTask.objects.create(name=name, task="crm.tests.fake_job", interval=interval,
                                       last_run_at=timezone.now() - last_run_ago)


@pytest.fixture
def beat():
    """A scheduler as `celery beat` builds it, whose sends are recorded instead of published."""
    made = []

    def make() -> LeasedDatabaseScheduler:
        scheduler = LeasedDatabaseScheduler(app=app)
        scheduler.__dict__["producer"] = None  # no broker connection
        scheduler.sent = []
        scheduler.send_task = lambda name, *args, **kwargs: scheduler.sent.append(name)
        made.append(scheduler)
        return scheduler

    yield make
    for scheduler in made:
        scheduler.__dict__.pop("producer", None)
        scheduler.close()


def sends(scheduler: LeasedDatabaseScheduler) -> int:
    return scheduler.sent.count("crm.tests.fake_job")


def run_count(name: str = JOB) -> int:
    return PeriodicTask.objects.get(name=name).total_run_count


def test_of_two_beats_only_the_lease_holder_sends(beat):
    periodic_job()
    first, second = beat(), beat()

    for _ in range(5):
        first.tick()
        second.tick()

    assert (sends(first), sends(second)) == (5, 0)
    assert BeatLease.objects.get().holder == first.ident


def test_each_run_is_counted_once(beat):
    periodic_job()
    first, second = beat(), beat()

    for _ in range(4):
        first.tick()
        second.tick()

    assert run_count() == sends(first) + sends(second) == 4


def test_the_standby_takes_over_once_the_holders_lease_has_run_out(beat, settings, caplog):
    settings.CRM_BEAT_LEASE_SECONDS = 1
    periodic_job()
    first, second = beat(), beat()
    first.tick(), first.tick()
    second.tick()
    assert sends(second) == 0

    time.sleep(1.1)  # the holder was killed: it renews no more
    with caplog.at_level(logging.WARNING, logger="crm.beat"):
        second.tick(), second.tick()

    assert sends(second) == 2
    assert BeatLease.objects.get().holder == second.ident
    assert run_count() == 4  # continued from the holder's count, not from a stale copy
    assert "takes over" in caplog.text


def test_a_holder_whose_lease_was_taken_stops_sending(beat, settings, caplog):
    settings.CRM_BEAT_LEASE_SECONDS = 1
    periodic_job()
    first, second = beat(), beat()
    first.tick()
    time.sleep(1.1)  # paused (a stopped VM): meanwhile the standby takes over
    second.tick()

    with caplog.at_level(logging.WARNING, logger="crm.beat"):
        first.tick(), first.tick()

    assert (sends(first), sends(second)) == (1, 1)
    assert "lost the beat lease" in caplog.text


def test_a_beat_taking_over_does_not_resend_what_the_holder_sent(beat, settings):
    settings.CRM_BEAT_LEASE_SECONDS = 1
    periodic_job("test: hourly", every=1, period=IntervalSchedule.HOURS)
    first, second = beat(), beat()  # both read the job as due
    first.tick()
    assert sends(first) == 1

    time.sleep(1.1)
    second.tick(), second.tick()

    assert sends(second) == 0  # it re-read the schedule: the job ran a moment ago
    assert run_count("test: hourly") == 1


def test_a_beat_stopping_cleanly_hands_over_at_once(beat):
    periodic_job()
    first, second = beat(), beat()
    first.tick()

    first.close()
    second.tick()

    assert sends(second) == 1
    assert list(BeatProcess.objects.values_list("ident", flat=True)) == [second.ident]


def test_a_standby_logs_who_holds_the_lease_once(beat, caplog):
    periodic_job()
    first, second = beat(), beat()
    first.tick()

    with caplog.at_level(logging.WARNING, logger="crm.beat"):
        second.tick(), second.tick(), second.tick()

    standing_by = [r for r in caplog.records if "stands by" in r.getMessage()]
    assert len(standing_by) == 1
    assert first.host in standing_by[0].getMessage()


def test_every_beat_records_itself_and_whether_it_sends(beat):
    periodic_job()
    first, second = beat(), beat()
    first.tick(), second.tick()

    rows = {row.ident: row for row in BeatProcess.objects.all()}

    assert set(rows) == {first.ident, second.ident}
    assert rows[first.ident].leading_until > timezone.now()
    assert rows[second.ident].leading_until is None
    assert rows[first.ident].leading_until == BeatLease.objects.get().expires_at


def test_a_database_error_while_checking_means_not_sending(beat, monkeypatch, caplog):
    from django.db import OperationalError

    import crm.beat

    periodic_job()
    first = beat()
    first.tick()

    def broken(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    monkeypatch.setattr(crm.beat, "lease_take", broken)
    with caplog.at_level(logging.WARNING, logger="crm.beat"):
        first.tick()

    assert sends(first) == 1
    assert "cannot check the beat lease" in caplog.text


def test_a_schedule_change_during_the_first_tick_does_not_send_a_job_twice(beat):
    """Seen with two real beats: the other beat's start-up wrote the schedule (its default
    entries) while this one took the lease; django-celery-beat re-read the schedule in the
    middle of the tick, left its heap marked stale, and the next tick rebuilt the heap from an
    entry whose last run was from before the send: the job went out twice, 20 ms apart."""
    from django_celery_beat.models import PeriodicTasks

    periodic_job(every=60, period=IntervalSchedule.SECONDS)
    scheduler = beat()
    PeriodicTasks.update_changed()  # another process changed the schedule meanwhile

    for _ in range(3):
        scheduler.tick()

    assert sends(scheduler) == 1
    assert run_count() == 1
