"""Sending through an email service (django-anymail) keeps the outbox's guarantee: each
service's answers sorted like SMTP replies, against local fakes of their send APIs."""
import json

import pytest

from campaigns.models import Message, Suppression
from campaigns.outbox import send_due_messages
from campaigns.tests.email_service_fakes import FakeEmailService, use_service
from campaigns.tests.factories import CampaignRunFactory, MessageFactory

pytestmark = pytest.mark.django_db
Status = Message.Status
SERVICES = ["postmark", "mailgun", "sendgrid", "brevo", "amazon_ses"]


@pytest.fixture
def service(settings, monkeypatch, request):
    name = getattr(request, "param", "postmark")
    with FakeEmailService() as fake:
        use_service(settings, monkeypatch, name, fake.url)
        fake.name = name
        yield fake


def fresh(message: Message) -> Message:
    message.refresh_from_db()
    return message


@pytest.mark.parametrize("service", SERVICES, indirect=True)
def test_each_service_sends_each_email_once_and_its_id_is_kept(service):
    run = CampaignRunFactory()
    messages = [MessageFactory(run=run) for _ in range(3)]

    report = send_due_messages(run_id=run.pk)

    assert report.sent == 3
    assert len(service.requests) == 3
    kept = [fresh(message).provider_message_id for message in messages]
    assert all(kept) and len(set(kept)) == 3
    if service.ids:  # the services that name the email in their answer
        assert [identifier.strip("<>") for identifier in kept] == [
            identifier.strip("<>") for identifier in service.ids]
    assert all(fresh(message).status == Status.SENT for message in messages)

    send_due_messages(run_id=run.pk)  # nothing is sent twice
    assert len(service.requests) == 3


def test_the_email_goes_with_its_own_message_id_and_without_tracking(service):
    message = MessageFactory(contact__email="ayse@example.com")

    send_due_messages()

    payload = json.loads(service.requests[0].body)
    assert payload["To"] == "ayse@example.com"
    assert payload["TrackOpens"] is False
    assert payload["TrackLinks"] == "None"
    headers = {header["Name"]: header["Value"] for header in payload["Headers"]}
    assert headers["Message-ID"] == message.message_id
    assert payload["Metadata"] == {"crm_message_id": message.message_id}
    assert "List-Unsubscribe" in headers


def test_a_service_failure_is_retried_later(service):
    message = MessageFactory()
    service.fail_next(503)

    send_due_messages()

    message = fresh(message)
    assert message.status == Status.QUEUED
    assert message.not_before is not None and message.provider_message_id == ""


def test_too_many_requests_is_retried_later(service):
    message = MessageFactory()
    service.fail_next(429, body={"ErrorCode": 429, "Message": "Rate limit exceeded"})

    send_due_messages()

    assert fresh(message).status == Status.QUEUED


def test_a_refused_api_key_holds_the_whole_batch(service):
    messages = [MessageFactory() for _ in range(3)]
    service.fail_next(401, body={"ErrorCode": 10, "Message": "Bad or missing Server API token."})

    report = send_due_messages()

    assert report.sent == 0
    assert len(service.requests) == 1  # the others were not tried one by one
    assert {fresh(message).status for message in messages} == {Status.QUEUED}


def test_an_email_the_service_refuses_fails_for_good(service):
    message = MessageFactory()
    service.fail_next(422, body={"ErrorCode": 300, "Message": "Invalid 'From' address."})

    send_due_messages()

    message = fresh(message)
    assert message.status == Status.FAILED
    assert "300" in message.last_error or "Invalid" in message.last_error


def test_an_inactive_recipient_bounces_and_is_suppressed(service):
    message = MessageFactory(contact__email="gone@example.com")
    service.fail_next(422, body={"ErrorCode": 406, "Message": (
        "You tried to send to a recipient that has been marked as inactive.\nFound inactive "
        "addresses: gone@example.com.\nInactive recipients are ones that have generated a "
        "hard bounce or a spam complaint. ")})

    send_due_messages()

    assert fresh(message).status == Status.BOUNCED
    assert Suppression.objects.filter(email="gone@example.com",
                                      reason=Suppression.Reason.BOUNCED).exists()


def test_no_answer_after_the_request_went_out_is_unknown_and_never_resent(service):
    message = MessageFactory()
    service.slow_next(6)  # REQUESTS_TIMEOUT is 5 s in the fake's settings

    send_due_messages()
    send_due_messages()

    assert fresh(message).status == Status.UNKNOWN
    assert len(service.requests) == 1


def test_a_service_that_cannot_be_reached_loses_nothing(settings, monkeypatch):
    with FakeEmailService() as fake:
        url = fake.url
    use_service(settings, monkeypatch, "postmark", url)  # the fake is gone: refused
    message = MessageFactory()

    send_due_messages()

    assert fresh(message).status == Status.QUEUED
