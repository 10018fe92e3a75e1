"""Faults on the deployed path: a Celery prefork worker (production settings, as
crm-worker.service starts it), a Redis of the test's own that is SIGKILLed and restarted, and
worker children SIGKILLed while they send. Counted at a real SMTP server by Message-ID."""
import os
import signal
import time

import pytest
from kombu import Connection

from campaigns.models import CampaignRun, Message
from campaigns.outbox import MAX_ATTEMPTS
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture
from crm.celery import app
from crm.tests.processes import CeleryWorker, wait_for
from crm.tests.servers import redis_server

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis,
              pytest.mark.django_db(transaction=True)]

Status = Message.Status


def outbox(run) -> dict[str, int]:
    rows = Message.objects.filter(run=run).values_list("status", flat=True)
    counts: dict[str, int] = {}
    for status in rows:
        counts[status] = counts.get(status, 0) + 1
    return counts


def queue_task(broker_url: str, name: str, *args) -> None:
    """What beat (or starting a campaign) does: put a task on the worker's broker."""
    eager, app.conf.task_always_eager = app.conf.task_always_eager, False  # test settings
    try:
        with Connection(broker_url) as connection:
            app.send_task(name, args=args, connection=connection)
    finally:
        app.conf.task_always_eager = eager


def run_done(run) -> bool:
    run.refresh_from_db()
    return run.status == CampaignRun.Status.DONE


def assert_each_email_once(sink, run) -> dict[str, str]:
    """None twice; every SENT row arrived; only UNKNOWN rows may be missing at the sink."""
    final = dict(Message.objects.filter(run=run).values_list("message_id", "status"))
    seen = sink.message_ids()
    assert max(seen.values(), default=0) == 1, "an email arrived twice"
    assert set(final.values()) <= {Status.SENT, Status.UNKNOWN}
    assert {mid for mid, status in final.items() if status == Status.SENT} <= set(seen)
    assert set(seen) <= set(final)
    return final


def test_redis_killed_mid_batch_the_prefork_worker_survives_and_sending_resumes(smtp_sink):
    """kombu 5.7.0 crashed the worker's main process here ('NoneType' object has no
    attribute 'hostname' in restore_unacked_once): sending stopped for good."""
    smtp_sink.delay = 0.004  # a batch of 200 takes about a second: the kill lands inside one
    run = CampaignRunFactory()
    for _ in range(900):
        MessageFactory(run=run)

    with redis_server() as redis, CeleryWorker(redis.url, smtp_port=smtp_sink.port) as worker:
        queue_task(redis.url, "campaigns.send_run", run.pk)
        assert smtp_sink.wait_for(150, timeout=60), worker.output()
        redis.kill()  # with the queued successor batches: Redis keeps nothing on disk
        time.sleep(2)
        redis.start()
        time.sleep(8)  # the worker notices, reconnects (its running batch finishes meanwhile)
        assert worker.alive(), worker.output()[-3000:]
        assert "Unrecoverable error" not in worker.output()

        queue_task(redis.url, "campaigns.send_due")  # beat's next once-a-minute tick
        assert wait_for(lambda: run_done(run), timeout=90), (outbox(run), worker.output()[-3000:])

    final = assert_each_email_once(smtp_sink, run)
    # The batch running at the kill finished instead of being cancelled: nothing ambiguous.
    assert list(final.values()).count(Status.UNKNOWN) == 0
    assert len(final) == 900


def test_twenty_sigkilled_children_the_run_is_done_within_two_minutes_of_the_last_kill(
        smtp_sink):
    smtp_sink.delay = 0.002
    run = CampaignRunFactory()
    for _ in range(3000):
        MessageFactory(run=run)

    with redis_server() as redis, CeleryWorker(redis.url, smtp_port=smtp_sink.port) as worker:
        queue_task(redis.url, "campaigns.send_run", run.pk)
        kills = 0
        while kills < 20:
            assert not run_done(run), f"the run ended after {kills} kills: make it longer"
            before = len(smtp_sink.received)
            # A child is busy once it has sent a few emails of its batch.
            assert wait_for(lambda before=before: len(smtp_sink.received) >= before + 5,
                            timeout=60), \
                (outbox(run), worker.output()[-3000:])
            children = worker.children()
            if children:
                os.kill(children[kills % len(children)], signal.SIGKILL)
                kills += 1
            time.sleep(0.3)
        last_kill = time.monotonic()
        # Nothing else helps: no beat, no periodic safety net; the queued successor batches
        # settle the killed batches (their leases died with the children) and carry on.
        took = wait_for(lambda: run_done(run), timeout=120)
        assert took is not None, (outbox(run), worker.output()[-3000:])
        assert worker.alive()

    final = assert_each_email_once(smtp_sink, run)
    unknown = list(final.values()).count(Status.UNKNOWN)
    assert unknown <= 20  # at most the one email each killed child was handing over
    assert len(final) == 3000
    print(f"run done {time.monotonic() - last_kill:.1f} s after the 20th kill; "
          f"{unknown} unknown")


def test_an_email_that_kills_its_worker_every_time_is_set_aside_and_the_run_finishes(
        smtp_sink):
    """Preparing one email kills the pool process each time (campaigns/tests/poison_worker).
    Its batch goes back to the queue with the task (reject_on_worker_lost) and its rows with
    recovery: before, the same row killed a worker on every redelivery and the run never
    ended. Now the row is tried MAX_ATTEMPTS times, set aside as FAILED, and everything else
    goes out once."""
    run = CampaignRunFactory()
    rows = [MessageFactory(run=run) for _ in range(250)]
    poison = MessageFactory(run=run, contact__email="poison@example.com")
    rows += [MessageFactory(run=run) for _ in range(250)]

    with redis_server() as redis, CeleryWorker(redis.url, smtp_port=smtp_sink.port,
                                               app="campaigns.tests.poison_worker") as worker:
        queue_task(redis.url, "campaigns.send_run", run.pk)
        assert wait_for(lambda: run_done(run), timeout=120), (outbox(run),
                                                              worker.output()[-3000:])
        assert worker.alive()
        kills = worker.output().count("exited with 'signal 9 (SIGKILL)'")

    poison.refresh_from_db()
    assert poison.status == Status.FAILED
    assert poison.attempts == MAX_ATTEMPTS == kills
    seen = smtp_sink.message_ids()
    assert seen == {m.message_id: 1 for m in rows}


def test_the_sending_worker_alone_sends_a_run_and_its_safety_net(smtp_sink):
    """crm-sender.service serves only the "email" queue: starting a campaign (send_run) and
    beat's once-a-minute safety net (send_due) are routed there, so it sends a run with no
    other worker running."""
    run = CampaignRunFactory()
    rows = [MessageFactory(run=run) for _ in range(450)]
    late = CampaignRunFactory()
    late_rows = [MessageFactory(run=late) for _ in range(30)]

    with redis_server() as redis, CeleryWorker(redis.url, smtp_port=smtp_sink.port,
                                               concurrency=4, queues="email") as worker:
        queue_task(redis.url, "campaigns.send_run", run.pk)
        queue_task(redis.url, "campaigns.send_due")  # a run whose own task was lost
        assert wait_for(lambda: run_done(run) and run_done(late), timeout=60), (
            outbox(run), outbox(late), worker.output()[-3000:])

    assert smtp_sink.message_ids() == {m.message_id: 1 for m in rows + late_rows}
