"""Faults: a server that stops answering, a server that is down, racing workers, and a worker
SIGKILLed mid-batch. Counted at a real SMTP server by Message-ID: none twice, none lost, and
the only ambiguous rows are recorded as UNKNOWN, at most one per killed connection."""
import datetime as dt
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Message
from campaigns.outbox import recover_dead_batches, recover_stuck_messages, send_due_messages
from campaigns.tasks import send_due_task
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import free_port, smtp_sink  # noqa: F401 - fixture

Status = Message.Status
ROOT = Path(__file__).resolve().parents[2]


def messages_for(run, count: int) -> list[Message]:
    return [MessageFactory(run=run) for _ in range(count)]


def statuses(messages) -> dict[str, str]:
    return dict(Message.objects.filter(pk__in=[m.pk for m in messages])
                .values_list("message_id", "status"))


def assert_exactly_once(sink, messages) -> dict[str, str]:
    """Every row is SENT and at the sink once, or UNKNOWN (at the sink at most once)."""
    final, seen = statuses(messages), sink.message_ids()
    assert max(seen.values(), default=0) == 1, "an email arrived twice"
    assert set(final.values()) <= {Status.SENT, Status.UNKNOWN}
    assert {mid for mid, status in final.items() if status == Status.SENT} <= set(seen)
    assert set(seen) <= set(final)
    return final


@pytest.mark.django_db
def test_lost_final_reply_is_recorded_unknown_and_the_batch_goes_on(smtp_sink, settings):
    settings.EMAIL_TIMEOUT = 0.5
    run = CampaignRunFactory()
    first = MessageFactory(run=run)
    slow = MessageFactory(run=run, contact__email="slow@example.com")
    last = MessageFactory(run=run)
    smtp_sink.data_delays["slow@example.com"] = 2

    report = send_due_messages()

    slow.refresh_from_db()
    assert (report.sent, report.unknown) == (2, 1)
    assert slow.status == Status.UNKNOWN
    assert slow.sent_at is not None  # when it was handed over: counts towards the cap
    assert statuses([first, last]) == {first.message_id: "sent", last.message_id: "sent"}
    assert smtp_sink.connections == 2  # the broken connection was replaced
    assert smtp_sink.message_ids()[slow.message_id] == 1  # the server did keep it: ambiguous


@pytest.mark.django_db
def test_server_down_defers_the_whole_batch_without_trying_each(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    run = CampaignRunFactory()
    messages = messages_for(run, 4)

    started = time.monotonic()
    report = send_due_messages()

    assert (report.claimed, report.deferred, report.sent) == (4, 4, 0)
    assert time.monotonic() - started < 2
    for message in messages:
        message.refresh_from_db()
        assert (message.status, message.attempts, message.sent_at) == (Status.QUEUED, 1, None)
        assert message.not_before > timezone.now()


@pytest.mark.django_db
def test_rows_whose_task_was_lost_are_sent_by_the_periodic_task(smtp_sink):
    """A broker restart that loses a queued send_run task loses no email: state is in the
    database, and campaigns.send_due (every minute) drains it."""
    run = CampaignRunFactory()
    messages = messages_for(run, 3)

    send_due_task.delay()

    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    run.refresh_from_db()
    assert run.status == "done"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_workers_claim_disjoint_batches(smtp_sink):
    run = CampaignRunFactory()
    messages = messages_for(run, 40)
    errors = []

    def work() -> None:
        try:
            while send_due_messages(limit=3).claimed:
                pass
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    assert set(statuses(messages).values()) == {Status.SENT}


CHILD = """
import os, sys
import django
django.setup()
from django.conf import settings
settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", int(sys.argv[1])
settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
from campaigns.outbox import send_due_messages
print("ready", flush=True)
while send_due_messages(limit=int(sys.argv[2])).claimed:
    pass
"""


def start_sender(port: int, batch: int) -> subprocess.Popen:
    """A separate sending process on the test database (committed rows, transaction=True)."""
    db = connection.settings_dict
    environ = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.test",
               "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    return subprocess.Popen([sys.executable, "-c", CHILD, str(port), str(batch)], cwd=ROOT,
                            env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("kill_after", [1, 7, 13])
def test_sigkill_mid_batch_loses_nothing_and_sends_nothing_twice(smtp_sink, kill_after):
    smtp_sink.delay = 0.03  # slow server: the kill lands while it holds one email
    run = CampaignRunFactory()
    messages = messages_for(run, 30)
    child = start_sender(smtp_sink.port, batch=10)

    assert smtp_sink.wait_for(kill_after, timeout=30), child.stderr.read1().decode()
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    killed_at = len(smtp_sink.received)
    smtp_sink.delay = 0

    later = timezone.now() + dt.timedelta(minutes=60)
    recovery = recover_stuck_messages(now=later)
    while send_due_messages().claimed:
        pass

    final = assert_exactly_once(smtp_sink, messages)
    unknown = [mid for mid, status in final.items() if status == Status.UNKNOWN]
    assert kill_after <= killed_at < 30
    assert recovery.unknown == len(unknown) <= 1  # one connection was killed
    assert len(smtp_sink.received) == 30 - sum(mid not in smtp_sink.message_ids() for mid in unknown)


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_dead_senders_batch_is_settled_at_once_and_a_live_ones_is_left_alone(smtp_sink):
    """The batch lease: while its sender lives, nothing touches its rows, however long it
    takes; the moment it is killed, its rows are settled, without waiting for the 15-minute
    age rule (recover_stuck_messages)."""
    smtp_sink.delay = 0.2
    run = CampaignRunFactory()
    messages = messages_for(run, 20)
    child = start_sender(smtp_sink.port, batch=20)
    assert smtp_sink.wait_for(2, timeout=30), child.stderr.read1().decode()

    alive = recover_dead_batches()
    in_flight = Message.objects.filter(run=run, status=Status.SENDING).count()

    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    time.sleep(0.5)  # PostgreSQL ends the dead client's session, and its lock with it
    dead = recover_dead_batches()
    smtp_sink.delay = 0
    while send_due_messages().claimed:
        pass

    assert (alive.requeued, alive.unknown) == (0, 0)
    assert in_flight > 10
    assert dead.unknown <= 1 and dead.requeued + dead.unknown == in_flight
    assert dead.run_ids == {run.pk}
    assert_exactly_once(smtp_sink, messages)
