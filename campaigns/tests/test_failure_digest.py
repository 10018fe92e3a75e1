"""The managers' daily digest of emails that failed for good (campaigns/digest.py): one email
per manager with an address, in their language, only when something failed, once per day."""
import datetime as dt
import importlib

import pytest
from django.apps import apps as django_apps
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from accounts.tests.factories import ManagerFactory, SalesStaffFactory, UserFactory
from campaigns.digest import failure_digest_send, failures_between
from campaigns.models import Message
from campaigns.tests.factories import CampaignFactory, CampaignRunFactory, MessageFactory
from campaigns.triggers import failure_digest_task
from crm.models import DailyRun

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.TIME_ZONE = "UTC"
    settings.CRM_PUBLIC_URL = "https://crm.example.com/"


def failed(campaign=None, *, hours_ago: float = 2, error: str = "452 4.2.2 Over quota",
           now: dt.datetime = NOW, **fields) -> Message:
    run = CampaignRunFactory(campaign=campaign or CampaignFactory())
    return MessageFactory(run=run, status=Message.Status.FAILED, last_error=error,
                          failed_at=now - dt.timedelta(hours=hours_ago), **fields)


def recipients() -> list[str]:
    return sorted(address for email in mail.outbox for address in email.to)


def test_each_manager_with_an_address_gets_one_digest():
    ManagerFactory(username="marta", email="marta@example.com")
    ManagerFactory(username="nomail", email="")
    ManagerFactory(username="left", email="left@example.com", is_active=False)
    SalesStaffFactory(username="sally", email="sally@example.com")
    UserFactory(username="root", email="root@example.com", is_superuser=True)
    ManagerFactory(username="marta2", email="MARTA@example.com")  # the same mailbox
    failed()

    failure_digest_send(now=NOW)

    assert recipients() == ["marta@example.com", "root@example.com"]


def test_the_digest_counts_per_campaign_with_the_most_common_reasons_and_a_link():
    ManagerFactory(username="marta", email="marta@example.com")
    spring = CampaignFactory(name="Spring sale")
    for error, times in [("452 4.2.2 Over quota", 3), ("421 4.7.0 Try again later", 2),
                         ("554 5.7.1 Message refused\r\n  as spam", 1),
                         ("Invalid block tag on line 2: 'endfor'", 1)]:
        for _ in range(times):
            failed(spring, error=error)
    failed(CampaignFactory(name="Welcome"))

    failure_digest_send(now=NOW)

    email = mail.outbox[0]
    assert email.subject == "8 emails failed for good"
    body = email.body
    assert "Spring sale: 7" in body and "Welcome: 1" in body
    assert body.index("Spring sale") < body.index("Welcome")  # most failures first
    reasons = body[body.index("Spring sale"):body.index("Welcome")]
    assert "3 × 452 4.2.2 Over quota" in reasons
    assert "2 × 421 4.7.0 Try again later" in reasons
    assert "1 × 554 5.7.1 Message refused as spam" in reasons  # one line, spaces folded
    assert "endfor" not in reasons  # three reasons at most
    path = reverse("admin:campaigns_campaign_change", args=[spring.pk])
    assert f"https://crm.example.com{path}" in body


def test_only_what_failed_for_good_since_the_last_day_counts():
    ManagerFactory(username="marta", email="marta@example.com")
    campaign = CampaignFactory(name="Spring sale")
    failed(campaign, hours_ago=1)
    failed(campaign, hours_ago=30)  # in an earlier day's digest
    MessageFactory(run=CampaignRunFactory(campaign=campaign), status=Message.Status.QUEUED,
                   last_error="451 4.2.1 Mailbox busy, try later")  # will be retried

    failure_digest_send(now=NOW)

    assert "Spring sale: 1" in mail.outbox[0].body


def test_no_failure_no_email_but_the_day_is_done():
    ManagerFactory(username="marta", email="marta@example.com")

    run = failure_digest_send(now=NOW)

    assert mail.outbox == []
    assert (run.day, run.result["failed"]) == (NOW.date(), 0)


def test_run_twice_the_same_day_sends_once():
    ManagerFactory(username="marta", email="marta@example.com")
    failed(now=timezone.now())

    failure_digest_task()
    failure_digest_task()
    second = failure_digest_send(now=timezone.now() + dt.timedelta(minutes=5))

    assert len(mail.outbox) == 1
    assert second is None
    assert DailyRun.objects.filter(job="campaigns.failure_digest").count() == 1


def test_the_next_digest_starts_where_the_previous_ended():
    ManagerFactory(username="marta", email="marta@example.com")
    campaign = CampaignFactory(name="Spring sale")
    failed(campaign, hours_ago=1)
    failure_digest_send(now=NOW)
    later = NOW + dt.timedelta(days=2)  # a day was missed: nothing is lost
    failed(campaign, hours_ago=40, now=later)
    failed(campaign, hours_ago=3, now=later)

    failure_digest_send(now=later)

    assert len(mail.outbox) == 2
    assert "Spring sale: 2" in mail.outbox[1].body


def test_each_manager_reads_it_in_their_own_language():
    ManagerFactory(username="marta", email="marta@example.com", language="tr")
    ManagerFactory(username="mike", email="mike@example.com", language="")
    failed(hours_ago=1)

    failure_digest_send(now=NOW)

    by_address = {email.to[0]: email.body for email in mail.outbox}
    # The period in each language's own date format (Django's Turkish: "07 Ara 2026 08:00").
    assert "07 Ara 2026 08:00" in by_address["marta@example.com"]
    assert "12/07/2026 08:00" in by_address["mike@example.com"]


def test_names_and_errors_are_quoted_as_they_are_in_plain_text():
    ManagerFactory(username="marta", email="marta@example.com")
    failed(CampaignFactory(name='Tom & Jerry\'s <b>"deal"</b>'), error="550 <x@y> & more")

    failure_digest_send(now=NOW)

    body = mail.outbox[0].body
    assert 'Tom & Jerry\'s <b>"deal"</b>: 1' in body
    assert "1 × 550 <x@y> & more" in body
    assert "&amp;" not in body and "&lt;" not in body


def test_a_failed_send_gives_the_period_back_to_the_next_run(monkeypatch):
    import campaigns.digest

    ManagerFactory(username="marta", email="marta@example.com")
    failed()

    class Down:
        def __enter__(self):
            raise ConnectionRefusedError("SMTP server down")

        def __exit__(self, *exc):
            return False

    monkeypatch.setattr(campaigns.digest, "get_connection", lambda: Down())
    with pytest.raises(ConnectionRefusedError):
        failure_digest_send(now=NOW)
    monkeypatch.undo()
    failure_digest_send(now=NOW + dt.timedelta(minutes=30))

    assert len(mail.outbox) == 1


def test_failures_between_is_half_open():
    message = failed(hours_ago=0)

    assert failures_between(message.failed_at, NOW + dt.timedelta(seconds=1))[0].count == 1
    assert failures_between(NOW - dt.timedelta(hours=1), message.failed_at) == []


def test_migrate_registers_the_daily_schedule_at_8():
    task = PeriodicTask.objects.get(task="campaigns.failure_digest")

    assert (task.enabled, task.crontab.minute, task.crontab.hour) == (True, "0", "8")


def test_the_migration_adds_the_schedule_from_its_own_frozen_list():
    PeriodicTask.objects.filter(task="campaigns.failure_digest").delete()
    migration = importlib.import_module("crm.migrations.0008_failure_digest_schedule")

    migration.register(django_apps, None)

    assert PeriodicTask.objects.filter(task="campaigns.failure_digest").count() == 1
    assert [s.task for s in migration.SCHEDULES] == ["campaigns.failure_digest"]
