"""Redis restarts (its queue lost, as with our no-persistence setting) in the middle of a
campaign: the periodic safety net sends what was queued, each message once."""
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from campaigns.models import CampaignRun, Message
from campaigns.tasks import send_due_task
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture
from crm.tests.workers import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def _redis(port: int, *args: str) -> str:
    return subprocess.run(["redis-cli", "-p", str(port), *args], capture_output=True,
                          text=True, check=False).stdout.strip()


def _restart_redis() -> None:
    """Shut Redis down without saving and start it again with the same settings."""
    port = urlsplit(settings.REDIS_URL).port
    config = {name: _redis(port, "config", "get", name).splitlines()[-1]
              for name in ("pidfile", "logfile", "dir")}
    _redis(port, "shutdown", "nosave")
    assert wait_until(lambda: _redis(port, "ping") != "PONG", timeout=10)
    subprocess.run(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                    "--appendonly", "no", "--daemonize", "yes", "--pidfile", config["pidfile"],
                    "--logfile", config["logfile"], "--dir", config["dir"]], check=True)
    assert wait_until(lambda: _redis(port, "ping") == "PONG", timeout=10)


def test_messages_queued_before_a_redis_restart_are_sent_once_after_it(real_worker, smtp_sink):
    run = CampaignRunFactory(status=CampaignRun.Status.SENDING)
    messages = [MessageFactory(run=run, campaign=run.campaign) for _ in range(12)]
    smtp_sink.delay = 0.05

    send_due_task.delay()  # a batch starts going out ...
    time.sleep(0.2)
    _restart_redis()  # ... and Redis restarts: any task still in it is gone
    time.sleep(1)
    send_due_task.delay()  # the next periodic tick (beat sends one every minute)

    assert wait_until(lambda: not Message.objects.filter(
        run=run, status__in=[Message.Status.QUEUED, Message.Status.SENDING]).exists(),
        timeout=60)
    received = smtp_sink.message_ids()
    statuses = dict(Message.objects.filter(run=run).values_list("message_id", "status"))
    assert set(statuses.values()) <= {Message.Status.SENT, Message.Status.UNKNOWN}
    # None twice; every SENT row arrived; UNKNOWN (at most one per broken connection) may have.
    assert all(count == 1 for count in received.values())
    assert all(received[message_id] == 1 for message_id, status in statuses.items()
               if status == Message.Status.SENT)
    assert list(statuses.values()).count(Message.Status.UNKNOWN) <= 1
    assert len(statuses) == len(messages)
