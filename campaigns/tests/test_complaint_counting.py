"""The complaint rate counts every email marked as spam: once per email, also when the
address had been suppressed before for another reason (unsubscribed, say), and the
complaints a manager enters by hand."""
import datetime as dt

import pytest
from django.utils import timezone

from campaigns.bounces import complaint_record
from campaigns.deliverability import rates
from campaigns.models import Message, SendingPause, Suppression
from campaigns.sending_pause import complaint_counts
from campaigns.suppression import address_suppress, address_suppress_by_staff
from campaigns.tests.factories import MessageFactory
from campaigns.tests.test_bounces import _complaint
from customers.models import Contact
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
Status = Message.Status


def _sent(email: str) -> Message:
    now = timezone.now()
    contact = Contact.objects.filter(email=email).first() or ContactFactory(email=email)
    return MessageFactory(status=Status.SENT, claimed_at=now, sent_at=now, contact=contact,
                          to_email=email)


def _day() -> tuple[dt.datetime, dt.datetime]:
    now = timezone.now()
    return now - dt.timedelta(days=1), now + dt.timedelta(seconds=1)


def test_a_complaint_from_an_address_that_had_unsubscribed_is_counted(
        django_capture_on_commit_callbacks):
    message = _sent("ann@example.com")
    address_suppress(email="ann@example.com", reason=Suppression.Reason.UNSUBSCRIBED)

    with django_capture_on_commit_callbacks(execute=True):
        complaint_record(_complaint(message.message_id))

    assert complaint_counts(*_day()) == (1, 1)
    assert rates().complaints == 1
    # The address keeps its first reason; the complaint is on the email.
    assert Suppression.objects.get().reason == Suppression.Reason.UNSUBSCRIBED
    message.refresh_from_db()
    assert message.complained_at is not None


def test_the_same_report_twice_counts_once_and_two_emails_count_twice():
    first, second = _sent("ann@example.com"), _sent("ann@example.com")

    complaint_record(_complaint(first.message_id))
    complaint_record(_complaint(first.message_id))  # a feedback loop resending its report
    assert complaint_counts(*_day())[0] == 1

    complaint_record(_complaint(second.message_id))  # she marked a second email too
    assert complaint_counts(*_day())[0] == 2


def test_a_complaint_a_manager_enters_counts_once_beside_the_emails(admin_user):
    message = _sent("ann@example.com")
    complaint_record(_complaint(message.message_id))

    # A manager enters by hand what another channel told them, and the same address again.
    address_suppress_by_staff(email="bob@example.com", reason=Suppression.Reason.COMPLAINED,
                              recorded_by=admin_user)
    address_suppress_by_staff(email="ann@example.com", reason=Suppression.Reason.COMPLAINED,
                              recorded_by=admin_user)

    assert complaint_counts(*_day())[0] == 2  # Ann's email once, Bob by hand


def test_a_complaint_from_an_unsubscribed_address_can_pause_sending(
        settings, django_capture_on_commit_callbacks):
    settings.CRM_COMPLAINT_PAUSE_MIN_SENT = 2
    settings.CRM_COMPLAINT_PAUSE_RATE = 0.3
    message, _other = _sent("ann@example.com"), _sent("bob@example.com")
    address_suppress(email="ann@example.com", reason=Suppression.Reason.UNSUBSCRIBED)

    with django_capture_on_commit_callbacks(execute=True):
        complaint_record(_complaint(message.message_id))

    pause = SendingPause.objects.get()
    assert (pause.complaints, pause.sent) == (1, 2)
