"""A row that fails for good records when (Message.failed_at): the managers' daily digest
(campaigns/digest.py) counts failures by it. campaigns.outbox sets failed_at
wherever it sets FAILED."""
import pytest
from django.utils import timezone

from campaigns.models import Message
from campaigns.outbox import MAX_ATTEMPTS, send_due_messages
from campaigns.tests.factories import EmailTemplateFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
Status = Message.Status
def test_the_last_temporary_refusal_records_when_the_email_failed(smtp_sink):
    message = MessageFactory(contact__email="busy@example.com", attempts=MAX_ATTEMPTS - 1)
    smtp_sink.rcpt_replies["busy@example.com"] = "452 4.2.2 Over quota"
    before = timezone.now()

    send_due_messages()

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert before <= message.failed_at <= timezone.now()


def test_a_temporary_refusal_with_attempts_left_is_not_failed(smtp_sink):
    message = MessageFactory(contact__email="busy@example.com")
    smtp_sink.rcpt_replies["busy@example.com"] = "452 4.2.2 Over quota"

    send_due_messages()

    message.refresh_from_db()
    assert (message.status, message.failed_at) == (Status.QUEUED, None)


def test_a_template_that_cannot_be_rendered_records_when_the_email_failed(smtp_sink):
    broken = EmailTemplateFactory(body_text="{% if %}")
    message = MessageFactory(run__campaign__template=broken)
    before = timezone.now()

    send_due_messages()

    message.refresh_from_db()
    assert message.status == Status.FAILED
    assert before <= message.failed_at <= timezone.now()
