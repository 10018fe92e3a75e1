"""Two workers never both send to one contact: the frequency cap holds across workers
(PostgreSQL advisory locks per contact, taken before the send-time checks)."""

import psycopg2
import pytest
from django.db import connection
from django.utils import timezone

from campaigns.models import Message
from campaigns.outbox import send_due_messages
from campaigns.outbox.checks import _SENDING_LOCK_SPACE, CONTACT_BUSY_WAIT
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from crm.tests.concurrency import at_once
from customers.tests.factories import ContactFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

Status = Message.Status


def _other_worker():
    """A second database session, as another sending worker has."""
    db = connection.settings_dict
    other = psycopg2.connect(host=db["HOST"], port=db["PORT"], user=db["USER"],
                             dbname=db["NAME"], password=db["PASSWORD"] or None)
    other.autocommit = True
    return other


def test_a_contact_another_worker_is_sending_to_waits(smtp_sink):
    shared = ContactFactory(email="shared@example.com", marketing_consent=True)
    waiting = MessageFactory(run=CampaignRunFactory(), contact=shared)
    others = [MessageFactory(run=waiting.run) for _ in range(2)]
    other = _other_worker()
    with other.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s, %s)", [_SENDING_LOCK_SPACE, shared.pk])
    before = timezone.now()

    report = send_due_messages()

    waiting.refresh_from_db()
    assert (report.sent, report.deferred) == (2, 1)
    assert (waiting.status, waiting.attempts, waiting.claimed_at) == (Status.QUEUED, 0, None)
    assert waiting.not_before >= before + CONTACT_BUSY_WAIT
    assert sorted(smtp_sink.message_ids()) == sorted(m.message_id for m in others)
    other.close()  # its locks end with its session

    Message.objects.filter(pk=waiting.pk).update(not_before=timezone.now())
    assert send_due_messages().sent == 1


def test_the_locks_are_released_after_the_batch(smtp_sink):
    MessageFactory(run=CampaignRunFactory())

    send_due_messages()

    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' "
                       "AND classid = %s", [_SENDING_LOCK_SPACE])
        assert cursor.fetchone()[0] == 0


def test_two_workers_sending_two_campaigns_email_a_contact_once(smtp_sink, settings):
    settings.CRM_MARKETING_CAP_DAYS = 3
    smtp_sink.delay = 0.05  # both batches are on the wire at the same time
    shared = ContactFactory(email="shared@example.com", marketing_consent=True)
    first, second = CampaignRunFactory(), CampaignRunFactory()
    # Claimed in (not_before, id) order, 3 at a time: each worker's batch holds one of them.
    for run in (first, second):
        MessageFactory(run=run, contact=shared)
        MessageFactory(run=run)
        MessageFactory(run=run)
    _reports, errors = at_once(lambda _index: send_due_messages(limit=3), threads=2)
    # A deferred row is due again a minute later: it is now.
    Message.objects.filter(status=Status.QUEUED).update(not_before=timezone.now())
    while send_due_messages().claimed:
        pass

    assert errors == []
    to_shared = [r for r in smtp_sink.received if "shared@example.com" in r.rcpt_tos]
    assert len(to_shared) == 1
    assert sorted(Message.objects.filter(contact=shared).values_list("status", flat=True)) == [
        Status.CAPPED, Status.SENT]
