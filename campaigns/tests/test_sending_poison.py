"""An email whose preparation kills the worker every time (out of memory, a crash in a C
library): it is tried a few times, then set aside as FAILED with its reason, and the rest of
the run goes out. Before, recovery put it back in the queue without counting the attempt, and
every redelivery of its batch killed another worker, for ever."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.models import Message
from campaigns.outbox import (
    MAX_ATTEMPTS,
    claim_batch,
    recover_stuck_messages,
    reason_label,
    send_due_messages,
)
from campaigns.outbox.claim import batch_lease_release
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
Status = Message.Status


def worker_dies(run, *, sent_before: int = 0, handed_over: bool = False):
    """A worker claims the run's due rows in one batch, sends the first `sent_before` of them
    (recorded SENT), hands the next one to the server if `handed_over`, and dies while
    preparing the row after that. Recovery then runs (the age rule; on PostgreSQL the lease
    died with the worker's session, which releasing it here stands for)."""
    ids, claimed_at = claim_batch(run_id=run.pk, limit=1000)
    ids.sort()
    Message.objects.filter(pk__in=ids[:sent_before]).update(status=Status.SENT,
                                                           sent_at=timezone.now())
    if handed_over:
        Message.objects.filter(pk=ids[sent_before]).update(sent_at=timezone.now())
    batch_lease_release(claimed_at)
    return recover_stuck_messages(now=timezone.now() + dt.timedelta(hours=1))


def test_the_email_that_kills_every_worker_is_set_aside_and_the_rest_goes_out(smtp_sink):
    run = CampaignRunFactory()
    poison, *others = [MessageFactory(run=run) for _ in range(5)]

    reports = [worker_dies(run) for _ in range(MAX_ATTEMPTS)]

    poison.refresh_from_db()
    assert poison.status == Status.FAILED
    assert poison.failed_at is not None
    assert "stopped while preparing this email" in reason_label(poison.last_error)
    assert [r.failed for r in reports] == [0] * (MAX_ATTEMPTS - 1) + [1]
    # The others were never being prepared: each crash put them back as they were.
    assert set(Message.objects.filter(pk__in=[m.pk for m in others])
               .values_list("status", "attempts")) == {(Status.QUEUED, 0)}

    while send_due_messages(run_id=run.pk).claimed:
        pass
    assert smtp_sink.message_ids() == {m.message_id: 1 for m in others}


def test_only_the_row_being_prepared_has_its_attempt_counted():
    run = CampaignRunFactory()
    rows = [MessageFactory(run=run) for _ in range(6)]

    report = worker_dies(run, sent_before=2, handed_over=True)

    after = {m.pk: (m.status, m.attempts) for m in Message.objects.filter(run=run)}
    assert after[rows[0].pk] == after[rows[1].pk] == (Status.SENT, 1)
    assert after[rows[2].pk] == (Status.UNKNOWN, 1)  # handed over: may have arrived
    assert after[rows[3].pk] == (Status.QUEUED, 1)  # being prepared: the attempt counts
    assert after[rows[4].pk] == after[rows[5].pk] == (Status.QUEUED, 0)
    assert (report.unknown, report.requeued, report.failed) == (1, 3, 0)


def test_a_row_that_failed_to_go_out_for_other_reasons_counts_those_attempts_too():
    """The limit is the outbox's one limit on attempts (temporary SMTP failures count too):
    a row that already used all but one is set aside at its first crash."""
    run = CampaignRunFactory()
    tired = MessageFactory(run=run, attempts=MAX_ATTEMPTS - 1)

    report = worker_dies(run)

    tired.refresh_from_db()
    assert (tired.status, report.failed) == (Status.FAILED, 1)
