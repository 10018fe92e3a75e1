"""Sending pauses by itself when the last day's spam complaint rate crosses
CRM_COMPLAINT_PAUSE_RATE (with a minimum volume), tells the managers once in their language,
sends nothing while paused, and goes on when a manager resumes."""
import datetime as dt

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.roles import MANAGERS
from campaigns import views
from campaigns.models import Message, SendingPause, Suppression
from campaigns.outbox import send_due_messages
from campaigns.sending_pause import complaint_pause_check, sending_resume
from campaigns.suppression import address_suppress
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from campaigns.tests.test_deliverability import FakeResolver
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
Status = Message.Status


@pytest.fixture
def limits(settings):
    settings.CRM_COMPLAINT_PAUSE_RATE = 0.003
    settings.CRM_COMPLAINT_PAUSE_MIN_SENT = 1000


def sent_today(count: int) -> None:
    now = timezone.now()
    run = CampaignRunFactory()
    Message.objects.bulk_create([
        Message(run=run, campaign=run.campaign, contact=ContactFactory(),
                message_id=f"<bulk{i}.{now.timestamp()}@shop.example>", status=Status.SENT,
                claimed_at=now, sent_at=now)
        for i in range(count)])


def manager(django_user_model, name: str, language: str):
    user = django_user_model.objects.create_user(name, email=f"{name}@shop.example",
                                                 password="x", language=language)
    user.groups.add(Group.objects.get(name=MANAGERS))
    return user


def complain(count: int) -> None:
    for i in range(count):
        address_suppress(email=f"angry{i}@example.com", reason=Suppression.Reason.COMPLAINED)


def test_complaints_over_the_rate_pause_sending_and_email_managers_once(
        limits, django_user_model, django_capture_on_commit_callbacks, monkeypatch):
    import campaigns.sending_pause as module

    monkeypatch.setattr(module, "complaint_counts", lambda start, end: (4, 1000))
    manager(django_user_model, "en_boss", "en")
    manager(django_user_model, "tr_boss", "tr")

    with django_capture_on_commit_callbacks(execute=True):
        complain(1)
    with django_capture_on_commit_callbacks(execute=True):
        complain(1)  # already paused: no second pause, no second email

    pause = SendingPause.objects.get()
    assert (pause.complaints, pause.sent, pause.ended_at) == (4, 1000, None)
    assert sorted(m.to[0] for m in mail.outbox) == ["en_boss@shop.example",
                                                    "tr_boss@shop.example"]
    english = next(m for m in mail.outbox if m.to == ["en_boss@shop.example"])
    assert english.subject == "Campaign sending paused: too many spam complaints"
    assert "/email/deliverability/" in english.body


def test_a_few_complaints_on_a_small_volume_do_not_pause(limits, monkeypatch):
    import campaigns.sending_pause as module

    monkeypatch.setattr(module, "complaint_counts", lambda start, end: (1, 3))

    assert complaint_pause_check() is None
    assert not SendingPause.objects.exists()


def test_below_the_rate_does_not_pause(limits, monkeypatch):
    import campaigns.sending_pause as module

    monkeypatch.setattr(module, "complaint_counts", lambda start, end: (2, 1000))

    assert complaint_pause_check() is None


def test_the_day_counts_real_complaints_and_sent_emails(settings):
    settings.CRM_COMPLAINT_PAUSE_MIN_SENT = 10
    sent_today(10)
    complain(1)

    pause = complaint_pause_check()

    assert (pause.complaints, pause.sent) == (1, 10)


def test_nothing_is_sent_while_paused_and_everything_after_resuming(smtp_sink, admin_user):
    SendingPause.objects.create(reason=SendingPause.Reason.COMPLAINTS, complaints=5, sent=1000)
    run = CampaignRunFactory()
    messages = [MessageFactory(run=run) for _ in range(3)]

    report = send_due_messages(run_id=run.pk)

    assert smtp_sink.received == [] and report.deferred == 3
    assert set(run.messages.values_list("status", "attempts")) == {(Status.QUEUED, 0)}

    assert sending_resume(by=admin_user) == 1
    run.messages.update(not_before=timezone.now() - dt.timedelta(seconds=1))
    send_due_messages(run_id=run.pk)

    assert smtp_sink.message_ids() == {m.message_id: 1 for m in messages}


def test_after_resuming_the_same_complaints_do_not_pause_again(settings, admin_user):
    settings.CRM_COMPLAINT_PAUSE_MIN_SENT = 10
    sent_today(10)
    complain(1)
    assert complaint_pause_check() is not None
    sending_resume(by=admin_user)

    assert complaint_pause_check() is None


def test_the_page_shows_the_pause_and_a_manager_resumes(client, django_user_model,
                                                         monkeypatch):
    monkeypatch.setattr(views, "deliverability_resolver", lambda: FakeResolver())
    SendingPause.objects.create(reason=SendingPause.Reason.COMPLAINTS, complaints=5, sent=1000)
    boss = manager(django_user_model, "boss", "en")
    client.force_login(boss)

    page = client.get(reverse("campaigns:deliverability"))
    assert b'data-testid="sending-paused"' in page.content
    assert b"5 spam complaints for 1000 emails" in page.content

    client.post(reverse("campaigns:sending_resume"))

    pause = SendingPause.objects.get()
    assert pause.ended_at is not None and pause.ended_by == boss
    assert b"sending-paused" not in client.get(reverse("campaigns:deliverability")).content


def test_sales_staff_cannot_resume(client, django_user_model):
    SendingPause.objects.create(reason=SendingPause.Reason.COMPLAINTS, complaints=5, sent=1000)
    client.force_login(django_user_model.objects.create_user("sales", password="x"))

    assert client.post(reverse("campaigns:sending_resume")).status_code == 403
    assert SendingPause.objects.get().ended_at is None


def test_the_campaign_pages_say_sending_is_paused(admin_client):
    SendingPause.objects.create(reason=SendingPause.Reason.COMPLAINTS, complaints=5, sent=1000)
    run = CampaignRunFactory()

    for url in (reverse("admin:campaigns_campaign_changelist"),
                reverse("admin:campaigns_campaign_change", args=[run.campaign_id]),
                reverse("admin:campaigns_campaignrun_changelist")):
        page = admin_client.get(url)
        assert b"5 spam complaints for 1000 emails" in page.content, url
        assert reverse("campaigns:deliverability").encode() in page.content


def test_an_arf_complaint_over_the_line_pauses_sending(settings, django_user_model,
                                                        django_capture_on_commit_callbacks):
    """The whole way: a feedback report about an email we sent, recorded by the same code as
    today's ARF handling, pauses sending and emails the managers."""
    from campaigns.bounces import complaint_record
    from campaigns.tests.test_bounces import _complaint

    settings.CRM_COMPLAINT_PAUSE_MIN_SENT = 10
    sent_today(9)
    now = timezone.now()
    message = MessageFactory(status=Status.SENT, claimed_at=now, sent_at=now,
                             contact__email="ann@example.com", to_email="ann@example.com")
    manager(django_user_model, "boss", "tr")

    with django_capture_on_commit_callbacks(execute=True):
        complaint_record(_complaint(message.message_id))

    pause = SendingPause.objects.get()
    assert (pause.complaints, pause.sent) == (1, 10)
    [notice] = mail.outbox
    assert notice.to == ["boss@shop.example"]
