"""Sending `unknown` messages again, by a manager's choice, on a run that is really finished:
the run is driven to `done` through the real sender and a real SMTP server, with rows left
`unknown` the way the sender leaves them (the connection lost while the final reply was
awaited), then sent again. Counted at the server by Message-ID."""
import pytest
from django.urls import reverse

from campaigns.models import CampaignRun, Message
from campaigns.outbox_actions import messages_send_again
from campaigns.outbox import MAX_ATTEMPTS
from campaigns.tasks import send_run_task
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
Status = Message.Status


def statuses(messages) -> dict[str, str]:
    return dict(Message.objects.filter(pk__in=[m.pk for m in messages])
                .values_list("message_id", "status"))


@pytest.fixture
def finished_run(smtp_sink, settings):
    """A run sent to the end by send_run_task: two rows `sent`, two `unknown` (the server kept
    them but its reply came after EMAIL_TIMEOUT), and the run closed as `done`."""
    settings.EMAIL_TIMEOUT = 0.5
    run = CampaignRunFactory()
    sent = [MessageFactory(run=run) for _ in range(2)]
    unknown = [MessageFactory(run=run, contact__email=f"slow{index}@example.com")
               for index in range(2)]
    for message in unknown:
        smtp_sink.data_delays[message.contact.email] = 2

    send_run_task(run.pk)

    run.refresh_from_db()
    assert run.status == CampaignRun.Status.DONE and run.finished_at is not None
    assert set(statuses(unknown).values()) == {Status.UNKNOWN}
    assert set(statuses(sent).values()) == {Status.SENT}
    assert smtp_sink.wait_for(4)  # the slow server did keep the two ambiguous emails
    smtp_sink.data_delays.clear()
    return run, sent, unknown


def test_unknown_rows_of_a_finished_run_go_out_again_once_and_the_run_closes_again(
        finished_run, smtp_sink, manager, django_capture_on_commit_callbacks):
    run, sent, unknown = finished_run
    other_run = CampaignRunFactory(status=CampaignRun.Status.DONE)
    other_unknown = MessageFactory(run=other_run, status=Status.UNKNOWN)
    finished_at = run.finished_at

    with django_capture_on_commit_callbacks(execute=True):
        result = messages_send_again([m.pk for m in sent + unknown], by=manager)

    run.refresh_from_db()
    seen = smtp_sink.message_ids()
    assert (result.requeued, result.runs_reopened) == (2, 1)
    assert {m.message_id: seen[m.message_id] for m in unknown} == {
        m.message_id: 2 for m in unknown}  # the ambiguous first copy, and the one sent again
    assert {m.message_id: seen[m.message_id] for m in sent} == {m.message_id: 1 for m in sent}
    assert set(statuses(sent + unknown).values()) == {Status.SENT}
    assert run.status == CampaignRun.Status.DONE and run.finished_at > finished_at
    # Nothing that was not chosen moved: another run's unknown row stays as it was.
    assert Message.objects.get(pk=other_unknown.pk).status == Status.UNKNOWN
    assert CampaignRun.objects.get(pk=other_run.pk).status == CampaignRun.Status.DONE
    assert other_unknown.message_id not in seen


def test_a_second_click_sends_nothing(finished_run, smtp_sink, manager,
                                      django_capture_on_commit_callbacks):
    run, _sent, unknown = finished_run
    ids = [m.pk for m in unknown]
    with django_capture_on_commit_callbacks(execute=True):
        messages_send_again(ids, by=manager)
    before = smtp_sink.message_ids()

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        again = messages_send_again(ids, by=manager)

    run.refresh_from_db()
    assert (again.requeued, again.runs_reopened) == (0, 0)
    assert callbacks == []  # no sending queued
    assert smtp_sink.message_ids() == before
    assert run.status == CampaignRun.Status.DONE


def test_the_run_is_reopened_with_the_rows_in_one_transaction(finished_run, manager,
                                                              django_capture_on_commit_callbacks):
    run, _sent, unknown = finished_run

    with django_capture_on_commit_callbacks(execute=False):  # the worker has not run yet
        messages_send_again([unknown[0].pk], by=manager)

    run.refresh_from_db()
    assert (run.status, run.finished_at) == (CampaignRun.Status.SENDING, None)
    assert Message.objects.get(pk=unknown[0].pk).status == Status.QUEUED


def test_the_admin_action_sends_again_and_says_the_run_reopened(
        finished_run, smtp_sink, client, manager, django_capture_on_commit_callbacks):
    run, sent, unknown = finished_run
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:campaigns_message_changelist"),
                               {"action": "requeue_unknown",
                                "_selected_action": [m.pk for m in sent + unknown]},
                               follow=True)

    page = response.content.decode()
    run.refresh_from_db()
    assert "2 unknown messages queued to be sent again with their Message-ID." in page
    assert "1 finished run reopened; it closes again once they are sent." in page
    assert set(statuses(unknown).values()) == {Status.SENT}
    assert all(smtp_sink.message_ids()[m.message_id] == 2 for m in unknown)
    assert run.status == CampaignRun.Status.DONE

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:campaigns_message_changelist"),
                               {"action": "requeue_unknown",
                                "_selected_action": [m.pk for m in unknown]}, follow=True)

    assert "nothing was sent again" in response.content.decode()


def test_the_campaign_page_counts_emails_that_failed_for_good(smtp_sink, client, manager):
    run = CampaignRunFactory()
    MessageFactory(run=run)
    # Its last attempt: a temporary refusal now is final.
    MessageFactory(run=run, attempts=MAX_ATTEMPTS - 1, contact__email="busy@example.com")
    smtp_sink.rcpt_replies["busy@example.com"] = "451 4.3.0 Try again later"

    send_run_task(run.pk)
    client.force_login(manager)
    html = client.get(reverse("admin:campaigns_campaign_change",
                              args=[run.campaign_id])).content.decode()

    assert run.messages.filter(status=Status.FAILED).count() == 1
    assert '<span data-testid="outcome-failed">Failed for good (no more retries): 1</span>' in html
    assert '<span data-testid="outcome-sent">Sent: 1</span>' in html
    assert '<span data-testid="outcome-unknown">Unknown (may have arrived): 0</span>' in html
    assert '<span data-testid="outcome-bounced">Bounced: 0</span>' in html
