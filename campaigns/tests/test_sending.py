"""Sending through a real SMTP server: batches, send-time checks, retries, bounces, runs."""
import datetime as dt

import pytest
from celery.signals import task_prerun
from django.utils import timezone

from campaigns.models import CampaignRun, Message, Suppression
from campaigns.outbox import (
    BACKOFF_MINUTES,
    MAX_ATTEMPTS,
    recover_stuck_messages,
    requeue_unknown_messages,
    run_finish_if_drained,
    send_due_messages,
)
from campaigns.suppression import contact_unsubscribe
from campaigns.tasks import send_due_task, send_run_task
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
Status = Message.Status


def messages_for(run, count: int) -> list[Message]:
    return [MessageFactory(run=run) for _ in range(count)]


def status_of(message: Message) -> str:
    message.refresh_from_db()
    return message.status


def test_a_batch_goes_over_one_connection_and_each_message_arrives_once(smtp_sink):
    run = CampaignRunFactory()
    messages = messages_for(run, 5)

    report = send_due_messages(run_id=run.pk)

    assert (report.claimed, report.sent) == (5, 5)
    assert smtp_sink.connections == 1
    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    for message in messages:
        message.refresh_from_db()
        assert message.status == Status.SENT
        assert message.sent_at is not None
        assert message.to_email == message.contact.email
        assert message.attempts == 1
        received = smtp_sink.by_message_id(message.message_id)[0]
        assert received.rcpt_tos == (message.contact.email,)


def test_the_email_is_rendered_for_its_contact(smtp_sink):
    message = MessageFactory(contact__first_name="Ada", contact__email="ada@example.com")

    send_due_messages()

    received = smtp_sink.by_message_id(message.message_id)[0].message
    assert received["Subject"] == "Hello Ada"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/email/unsubscribe/" in received.get_content()


def test_batch_size_limits_one_call(smtp_sink):
    run = CampaignRunFactory()
    messages_for(run, 5)

    report = send_due_messages(run_id=run.pk, limit=2)

    assert (report.claimed, report.sent, len(smtp_sink.received)) == (2, 2, 2)
    assert run.messages.filter(status=Status.QUEUED).count() == 3


def test_only_due_rows_of_sending_runs_are_claimed(smtp_sink):
    later = MessageFactory(not_before=timezone.now() + dt.timedelta(minutes=5))
    building = MessageFactory(run__status=CampaignRun.Status.BUILDING)

    report = send_due_messages()

    assert report.claimed == 0
    assert (status_of(later), status_of(building)) == (Status.QUEUED, Status.QUEUED)


def test_consent_withdrawn_after_the_audience_was_built_wins(smtp_sink):
    message = MessageFactory()
    contact_set_consent(contact=message.contact, consent=False, source="staff")

    report = send_due_messages()

    message.refresh_from_db()
    assert (report.sent, report.suppressed) == (0, 1)
    assert (message.status, message.last_error) == (Status.SUPPRESSED, "no_consent")
    assert smtp_sink.received == []


def test_a_suppressed_address_is_never_sent_even_with_consent(smtp_sink):
    message = MessageFactory()
    Suppression.objects.create(email=message.contact.email, reason=Suppression.Reason.ERASED)

    send_due_messages()

    message.refresh_from_db()
    assert (message.status, message.last_error) == (Status.SUPPRESSED, "suppressed:erased")
    assert smtp_sink.received == []


def test_unsubscribe_between_build_and_send_stops_the_message(smtp_sink):
    message = MessageFactory()
    contact_unsubscribe(contact=message.contact, source="unsubscribe-link")

    send_due_messages()

    assert status_of(message) == Status.SUPPRESSED
    assert smtp_sink.received == []


def test_frequency_cap_counts_recent_sent_messages_only(smtp_sink, settings):
    settings.CRM_MARKETING_CAP_DAYS = 7
    recent, old = ContactFactory(marketing_consent=True), ContactFactory(marketing_consent=True)
    MessageFactory(contact=recent, status=Status.SENT, sent_at=timezone.now() - dt.timedelta(days=6))
    MessageFactory(contact=old, status=Status.SENT, sent_at=timezone.now() - dt.timedelta(days=8))
    run = CampaignRunFactory()
    capped, sent = MessageFactory(run=run, contact=recent), MessageFactory(run=run, contact=old)

    report = send_due_messages(run_id=run.pk)

    capped.refresh_from_db()
    assert (capped.status, capped.last_error) == (Status.CAPPED, "frequency_cap")
    assert status_of(sent) == Status.SENT
    assert (report.sent, report.capped) == (1, 1)
    assert smtp_sink.message_ids() == {sent.message_id: 1}


def test_two_runs_in_one_batch_send_a_contact_one_email(smtp_sink):
    contact = ContactFactory(marketing_consent=True)
    first, second = MessageFactory(contact=contact), MessageFactory(contact=contact)

    send_due_messages()

    assert [status_of(first), status_of(second)] == [Status.SENT, Status.CAPPED]
    assert len(smtp_sink.received) == 1


def test_temporary_refusal_is_retried_after_a_backoff(smtp_sink):
    message = MessageFactory(contact__email="busy@example.com")
    smtp_sink.rcpt_replies["busy@example.com"] = "451 4.2.1 Mailbox busy, try later"
    before = timezone.now()

    report = send_due_messages()

    message.refresh_from_db()
    assert (report.deferred, message.status, message.attempts) == (1, Status.QUEUED, 1)
    assert message.last_error == "451 4.2.1 Mailbox busy, try later"
    assert message.not_before >= before + dt.timedelta(minutes=BACKOFF_MINUTES[0])
    assert send_due_messages().claimed == 0  # not before the back-off

    del smtp_sink.rcpt_replies["busy@example.com"]
    Message.objects.filter(pk=message.pk).update(not_before=timezone.now())
    send_due_messages()

    assert (status_of(message), message.attempts) == (Status.SENT, 2)
    assert smtp_sink.message_ids() == {message.message_id: 1}


def test_temporary_refusals_give_up_after_the_last_attempt(smtp_sink):
    message = MessageFactory(contact__email="busy@example.com", attempts=MAX_ATTEMPTS - 1)
    smtp_sink.rcpt_replies["busy@example.com"] = "452 4.2.2 Over quota"

    report = send_due_messages()

    message.refresh_from_db()
    assert (report.failed, message.status, message.attempts) == (1, Status.FAILED, MAX_ATTEMPTS)


def test_permanent_refusal_bounces_suppresses_and_is_not_retried(smtp_sink):
    run = CampaignRunFactory()
    gone = MessageFactory(run=run, contact__email="gone@example.com")
    fine = MessageFactory(run=run)
    smtp_sink.rcpt_replies["gone@example.com"] = "550 5.1.1 No such user"

    report = send_due_messages()

    gone.refresh_from_db()
    assert (report.bounced, report.sent) == (1, 1)
    assert (gone.status, gone.last_error) == (Status.BOUNCED, "550 5.1.1 No such user")
    assert Suppression.objects.get(email="gone@example.com").reason == Suppression.Reason.BOUNCED
    assert status_of(fine) == Status.SENT
    assert smtp_sink.connections == 1  # the refusal did not cost the connection
    assert send_due_messages().claimed == 0


def test_send_run_sends_every_batch_as_its_own_task_then_finishes_the_run(smtp_sink, settings):
    settings.CRM_EMAIL_BATCH_SIZE = 2
    run = CampaignRunFactory()
    messages = messages_for(run, 5)
    started = []

    def count(sender=None, **kwargs):
        if sender.name == send_run_task.name:
            started.append(tuple(kwargs["args"]))

    task_prerun.connect(count)
    try:
        send_run_task.delay(run.pk)
    finally:
        task_prerun.disconnect(count)

    run.refresh_from_db()
    assert started == [(run.pk,)] * 3  # the full batches of 2 and 2 queue a successor; 1 ends it
    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    assert smtp_sink.connections == 3
    assert run.status == CampaignRun.Status.DONE
    assert run.finished_at is not None


def test_a_database_outage_retries_the_batch_task_instead_of_ending_the_run(
        smtp_sink, settings, monkeypatch):
    """The chain of batches is not broken by a database that is briefly gone: the task retries
    itself (in production after 2 s, doubling to 30 s) and the run completes."""
    from django.db import OperationalError

    import campaigns.tasks
    from crm.celery import app

    settings.CRM_EMAIL_BATCH_SIZE = 2
    run = CampaignRunFactory()
    messages = messages_for(run, 5)
    real_claim, failures = campaigns.tasks.claim_batch, []

    def claim_while_the_database_restarts(**kwargs):
        if len(failures) < 2:
            failures.append(1)
            raise OperationalError("server closed the connection unexpectedly")
        return real_claim(**kwargs)

    monkeypatch.setattr(campaigns.tasks, "claim_batch", claim_while_the_database_restarts)
    # As on a worker: a retry is a new run of the task, not an error raised to the caller.
    propagates, app.conf.task_eager_propagates = app.conf.task_eager_propagates, False
    try:
        send_run_task.delay(run.pk)
    finally:
        app.conf.task_eager_propagates = propagates

    run.refresh_from_db()
    assert failures == [1, 1]
    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    assert run.status == CampaignRun.Status.DONE


def test_a_task_delivered_twice_sends_each_message_once(
        smtp_sink, settings, django_capture_on_commit_callbacks):
    settings.CRM_EMAIL_BATCH_SIZE = 2
    run = CampaignRunFactory()
    messages = messages_for(run, 5)

    with django_capture_on_commit_callbacks(execute=True):
        send_run_task.delay(run.pk)
        send_run_task.delay(run.pk)
        send_due_task.delay()

    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}
    assert Message.objects.filter(status=Status.SENT).count() == 5


def test_run_is_done_only_when_nothing_is_queued_or_sending():
    run = CampaignRunFactory()
    MessageFactory(run=run, status=Status.SENT)
    waiting = MessageFactory(run=run, status=Status.QUEUED)

    assert run_finish_if_drained(run.pk) is False
    Message.objects.filter(pk=waiting.pk).update(status=Status.UNKNOWN)
    assert run_finish_if_drained(run.pk) is True
    assert run_finish_if_drained(run.pk) is False
    run.refresh_from_db()
    assert run.status == CampaignRun.Status.DONE


def test_recovery_requeues_rows_never_offered_and_marks_offered_ones_unknown(settings):
    settings.CRM_EMAIL_STUCK_AFTER_MINUTES = 15
    old = timezone.now() - dt.timedelta(minutes=16)
    never = MessageFactory(status=Status.SENDING, claimed_at=old, attempts=1)
    offered = MessageFactory(status=Status.SENDING, claimed_at=old, sent_at=old, attempts=1)
    fresh = MessageFactory(status=Status.SENDING, claimed_at=timezone.now(), sent_at=timezone.now())

    report = recover_stuck_messages()

    assert (report.requeued, report.unknown) == (1, 1)
    assert [status_of(never), status_of(offered), status_of(fresh)] == [
        Status.QUEUED, Status.UNKNOWN, Status.SENDING]


def test_staff_can_requeue_unknown_rows_with_the_same_message_id(smtp_sink):
    message = MessageFactory(status=Status.UNKNOWN, sent_at=timezone.now())

    assert requeue_unknown_messages([message.pk]) == 1
    send_due_messages()

    assert status_of(message) == Status.SENT
    assert smtp_sink.message_ids() == {message.message_id: 1}
