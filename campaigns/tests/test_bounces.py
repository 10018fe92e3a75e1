"""Bounces reported later by the receiving side (RFC 3464 delivery status notifications)."""
import io

import pytest
from django.core.management import call_command

from campaigns.bounces import bounce_record
from campaigns.models import Message, Suppression
from campaigns.outbox import send_due_messages
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from support.models import Case

pytestmark = pytest.mark.django_db

Status = Message.Status


def _report(message_id: str, recipient: str = "ann@example.com", *, action: str = "failed",
            status: str = "5.1.1", returned: str = "headers") -> bytes:
    """A delivery status notification as Postfix writes one (returned headers), or as
    other servers do (the whole returned message)."""
    original = (f"From: Shop <crm@shop.example>\r\nTo: {recipient}\r\n"
                f"Message-ID: {message_id}\r\nSubject: We miss you\r\n")
    returned_part = (
        f"Content-Type: text/rfc822-headers\r\n\r\n{original}" if returned == "headers" else
        f"Content-Type: message/rfc822\r\n\r\n{original}\r\nHello again\r\n")
    return (
        "From: MAILER-DAEMON@mx.example.net (Mail Delivery System)\r\n"
        "To: crm@shop.example\r\nSubject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\r\n\r\n'
        "--B\r\nContent-Type: text/plain\r\n\r\nI'm sorry to have to inform you...\r\n"
        "--B\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient.upper()}\r\nAction: {action}\r\n"
        f"Status: {status}\r\nDiagnostic-Code: smtp; 550 5.1.1 <{recipient}>: Recipient "
        "address rejected: User unknown\r\n\r\n"
        f"--B\r\n{returned_part}--B--\r\n").encode()


def _sent(email: str = "ann@example.com") -> Message:
    return MessageFactory(run=CampaignRunFactory(), contact__email=email, status=Status.SENT,
                          to_email=email)


@pytest.mark.parametrize("returned", ["headers", "message"])
def test_a_permanent_failure_marks_the_email_bounced_and_suppresses_the_address(returned):
    message = _sent()

    report = bounce_record(_report(message.message_id, returned=returned))

    message.refresh_from_db()
    assert report.bounced == 1 and report.suppressed == ("ann@example.com",)
    assert message.status == Status.BOUNCED
    assert "User unknown" in message.last_error
    assert Suppression.objects.get(email="ann@example.com").reason == Suppression.Reason.BOUNCED


def test_a_delay_changes_nothing():
    message = _sent()

    report = bounce_record(_report(message.message_id, action="delayed", status="4.4.7"))

    message.refresh_from_db()
    assert message.status == Status.SENT
    assert not Suppression.objects.exists()
    assert "nothing changed" in report.describe()


def test_a_report_about_an_email_we_never_sent_changes_nothing():
    _sent()

    report = bounce_record(_report("<forged@elsewhere.example>"))

    assert report.bounced == 0
    assert not Suppression.objects.exists()
    assert Message.objects.get().status == Status.SENT


def test_a_report_naming_another_recipient_of_our_email_changes_nothing():
    message = _sent()

    bounce_record(_report(message.message_id, recipient="someone-else@example.com"))

    assert not Suppression.objects.exists()
    message.refresh_from_db()
    assert message.status == Status.SENT


def test_an_ordinary_email_is_not_a_report():
    report = bounce_record(b"From: ann@example.com\r\nSubject: Hello\r\n\r\nHi!\r\n")

    assert report.message_ids == () and not Suppression.objects.exists()


def _stdin(monkeypatch, raw: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))


def test_a_report_of_an_email_we_really_sent_arriving_at_the_support_address(
        smtp_sink, monkeypatch):
    """Sent through a real SMTP server; the report quotes the Message-ID it carried."""
    row = MessageFactory(run=CampaignRunFactory(), contact__email="ann@example.com")
    send_due_messages()
    [received] = smtp_sink.received
    _stdin(monkeypatch, _report(received.message["Message-ID"]))
    out = io.StringIO()

    call_command("receive_email", stdout=out)

    row.refresh_from_db()
    assert row.status == Status.BOUNCED
    assert not Case.objects.exists()  # a bounce is not a customer writing to support
    assert "ann@example.com" in out.getvalue()


def test_the_bounce_command_reads_a_report(monkeypatch):
    message = _sent()
    _stdin(monkeypatch, _report(message.message_id))
    out = io.StringIO()

    call_command("receive_bounce", stdout=out)

    message.refresh_from_db()
    assert message.status == Status.BOUNCED
    assert out.getvalue().strip() == "Bounce recorded for ann@example.com."


# --- Spam complaints (ARF feedback reports) ---------------------------------------------------

def _complaint(message_id: str, recipient: str = "ann@example.com",
               feedback_type: str = "abuse") -> bytes:
    """A feedback loop report as mailbox providers send them (RFC 5965)."""
    return (
        "From: feedback@provider.example\r\nTo: crm@shop.example\r\n"
        "Subject: Complaint about message from shop.example\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=feedback-report; boundary="F"\r\n\r\n'
        "--F\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report.\r\n"
        "--F\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: {feedback_type}\r\nUser-Agent: ProviderFBL/1.0\r\nVersion: 1\r\n"
        f"Original-Rcpt-To: {recipient}\r\n\r\n"
        "--F\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: Shop <crm@shop.example>\r\nTo: {recipient}\r\nMessage-ID: {message_id}\r\n"
        "Subject: We miss you\r\n\r\nHello again\r\n--F--\r\n").encode()


def test_a_spam_complaint_withdraws_consent_and_suppresses_the_address(monkeypatch):
    from customers.consent.models import ConsentMethod, ConsentRecord

    message = _sent()
    _stdin(monkeypatch, _complaint(message.message_id))
    out = io.StringIO()

    call_command("receive_bounce", stdout=out)

    message.refresh_from_db()
    message.contact.refresh_from_db()
    assert message.status == Status.SENT  # it was delivered; the person did not want it
    assert message.contact.marketing_consent is False
    assert ConsentRecord.objects.filter(contact=message.contact, given=False).get().method == (
        ConsentMethod.SPAM_COMPLAINT)
    assert Suppression.objects.get(email="ann@example.com").reason == (
        Suppression.Reason.COMPLAINED)
    assert "Spam complaint recorded for ann@example.com" in out.getvalue()


def test_a_complaint_reaching_the_support_address_opens_no_case(monkeypatch):
    message = _sent()
    _stdin(monkeypatch, _complaint(message.message_id))

    call_command("receive_email", stdout=io.StringIO())

    assert not Case.objects.exists()
    assert Suppression.objects.get().reason == Suppression.Reason.COMPLAINED


def test_other_feedback_and_forged_complaints_change_nothing():
    from campaigns.bounces import complaint_record

    message = _sent()

    complaint_record(_complaint(message.message_id, feedback_type="not-spam"))
    complaint_record(_complaint("<forged@elsewhere.example>"))

    message.contact.refresh_from_db()
    assert not Suppression.objects.exists()
    assert message.contact.marketing_consent is True
