"""Staff answer a case from its page: the reply is stored on the case and emailed (to a real
SMTP server) with a signed reply address; the customer's answer, through receive_email, comes
back into the same case and reopens it. A forged reply address opens a new case instead."""
import datetime as dt
import io
from email.message import EmailMessage
from email.utils import getaddresses

import pytest
from django.core.management import call_command
from django.urls import reverse

from campaigns.tests.smtp import smtp_sink  # noqa: F401 - the fixture
from campaigns.models import Suppression
from customers.tests.factories import ContactFactory
from support.models import Case, CaseMessage
from support.services import case_message_send, case_open, case_reply, case_set_status
from support.tokens import case_reply_token

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture
def shop_mail(settings):
    settings.CRM_SUPPORT_REPLY_ADDRESS = "help@shop.example"


@pytest.fixture
def case(sales_user):
    contact = ContactFactory(email="ayse@example.com", first_name="Ayşe", language="tr",
                             owner=sales_user)
    return case_open(contact=contact, subject="Broken zip", description="The zip broke.",
                     channel=Case.Channel.EMAIL, owner=sales_user, now=NOON,
                     message_id="<first@customer.example>")


def _reply_on_page(client, case, body: str, capture):
    with capture(execute=True):
        return client.post(reverse("support:case_reply", args=[case.pk]), {"body": body})


def _answer(raw: bytes, monkeypatch) -> str:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("receive_email", stdout=out)
    return out.getvalue()


def _email(*, to: str, body: str = "Thanks, it works now.", sender="ayse@example.com",
           subject="Re: Broken zip", **headers) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = headers.pop("message_id", "<answer1@customer.example>")
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message.as_bytes()


def test_a_reply_from_the_case_page_is_stored_and_emailed_with_a_threading_reply_address(
        client, sales_user, case, smtp_sink, shop_mail, django_capture_on_commit_callbacks):
    client.force_login(sales_user)

    response = _reply_on_page(client, case, "We send a new zip today.",
                              django_capture_on_commit_callbacks)

    assert response.status_code == 302
    [reply] = CaseMessage.objects.filter(case=case)
    assert (reply.direction, reply.author, reply.body) == ("out", sales_user,
                                                           "We send a new zip today.")
    assert reply.emailed_at is not None
    assert smtp_sink.wait_for(1)
    [received] = smtp_sink.received
    mail = received.message
    assert received.rcpt_tos == ("ayse@example.com",)
    [(_name, reply_to)] = getaddresses([str(mail["Reply-To"])])
    assert reply_to == f"help+{case_reply_token(case.pk)}@shop.example"
    assert str(mail["Message-ID"]) == reply.message_id
    # Threaded under the customer's own email in their mail program.
    assert str(mail["In-Reply-To"]) == "<first@customer.example>"
    assert "<first@customer.example>" in str(mail["References"])
    assert str(mail["Content-Language"]) == "tr"  # the contact's language
    assert "We send a new zip today." in mail.get_content()
    case.refresh_from_db()
    assert case.status == Case.Status.WAITING and case.first_response_at is not None


def test_the_first_reply_is_the_first_answer_and_a_second_does_not_move_it(case):
    case_set_status(case=case, status=Case.Status.OPEN, now=NOON + dt.timedelta(hours=1))
    case.refresh_from_db()
    assert case.first_response_at is None  # moving a case is not answering it

    case_reply(case=case, author=None, body="First", now=NOON + dt.timedelta(hours=2))
    case_reply(case=case, author=None, body="Second", now=NOON + dt.timedelta(hours=4))

    case.refresh_from_db()
    assert case.first_response_at == NOON + dt.timedelta(hours=2)
    assert not case.is_overdue(NOON + dt.timedelta(hours=9))  # the first answer was in time


def test_an_answer_to_the_reply_address_lands_on_the_same_case_and_reopens_it(
        client, sales_user, case, smtp_sink, shop_mail, monkeypatch,
        django_capture_on_commit_callbacks):
    client.force_login(sales_user)
    _reply_on_page(client, case, "Fixed?", django_capture_on_commit_callbacks)
    case_set_status(case=Case.objects.get(pk=case.pk), status=Case.Status.SOLVED)
    reply_to = str(smtp_sink.received[0].message["Reply-To"])

    printed = _answer(_email(to=reply_to, body="Not quite: the zip is the wrong colour."),
                      monkeypatch)

    assert Case.objects.count() == 1 and "Answer added" in printed
    case.refresh_from_db()
    assert (case.status, case.solved_at) == (Case.Status.OPEN, None)
    answer = case.messages.get(direction="in")
    assert answer.body.strip() == "Not quite: the zip is the wrong colour."
    assert answer.from_address == "ayse@example.com"


def test_an_answer_threaded_by_references_alone_lands_on_the_case(case, monkeypatch):
    reply = case_reply(case=case, author=None, body="Which size?")

    _answer(_email(to="help@shop.example", body="Size M.", In_Reply_To=reply.message_id,
                   References=f"<first@customer.example> {reply.message_id}"), monkeypatch)

    assert Case.objects.count() == 1
    assert case.messages.filter(direction="in").get().body.strip() == "Size M."


def test_a_forged_reply_address_opens_a_new_case_and_never_touches_the_one_it_names(
        case, monkeypatch):
    other_case = case_open(contact=ContactFactory(email="victim@example.com"),
                           subject="Private", channel="email")
    genuine = case_reply_token(other_case.pk)
    forged = f"help+case{other_case.pk}-{'0' * 20}@shop.example"
    tampered = f"help+case{case.pk}-{genuine.partition('-')[2]}@shop.example"

    for n, address in enumerate([forged, tampered]):
        _answer(_email(to=address, sender="mallory@example.com", subject="Hello",
                       message_id=f"<forged{n}@x.example>"), monkeypatch)

    assert not CaseMessage.objects.exists()
    new_cases = Case.objects.filter(contact__email="mallory@example.com")
    assert new_cases.count() == 2


def test_the_same_answer_delivered_twice_is_stored_once_and_an_out_of_office_reopens_nothing(
        case, monkeypatch, shop_mail):
    case_reply(case=case, author=None, body="Done.")
    case_set_status(case=case, status=Case.Status.SOLVED)
    address = f"help+{case_reply_token(case.pk)}@shop.example"

    _answer(_email(to=address, body="I am away.", Auto_Submitted="auto-replied",
                   message_id="<ooo@customer.example>"), monkeypatch)
    _answer(_email(to=address, body="I am away.", Auto_Submitted="auto-replied",
                   message_id="<ooo@customer.example>"), monkeypatch)

    case.refresh_from_db()
    assert case.status == Case.Status.SOLVED
    assert case.messages.filter(direction="in").count() == 1


def test_an_answer_from_another_address_is_flagged_on_the_case_page(
        client, sales_user, case, monkeypatch):
    case_reply(case=case, author=None, body="Done.")
    _answer(_email(to=f"help+{case_reply_token(case.pk)}@shop.example",
                   sender="someone.else@example.com"), monkeypatch)
    client.force_login(sales_user)

    html = client.get(reverse("support:case_detail", args=[case.pk])).content.decode()

    assert "someone.else@example.com" in html and "not the contact's address" in html


def test_a_reply_is_shown_as_text_and_an_empty_one_is_refused_with_the_text_kept(
        client, sales_user, case, django_capture_on_commit_callbacks):
    client.force_login(sales_user)

    _reply_on_page(client, case, "<script>alert(1)</script> done",
                   django_capture_on_commit_callbacks)
    html = client.get(reverse("support:case_detail", args=[case.pk])).content.decode()
    refused = client.post(reverse("support:case_reply", args=[case.pk]), {"body": "   "})

    assert "&lt;script&gt;alert(1)&lt;/script&gt; done" in html and "<script>alert" not in html
    assert refused.status_code == 400 and CaseMessage.objects.count() == 1


def test_a_reply_whose_sending_fails_is_kept_and_sent_by_the_retry(case, smtp_sink):
    reply = case_reply(case=case, author=None, body="Hello")
    smtp_sink.rcpt_replies["ayse@example.com"] = "451 4.3.0 Try later"

    with pytest.raises(Exception):  # noqa: B017 - SMTPRecipientsRefused or a subclass
        case_message_send(message_id=reply.pk)
    reply.refresh_from_db()
    assert reply.emailed_at is None

    smtp_sink.rcpt_replies.clear()
    assert case_message_send(message_id=reply.pk) is True
    assert case_message_send(message_id=reply.pk) is False  # once
    assert smtp_sink.wait_for(1) and len(smtp_sink.received) == 1


def test_an_unconfirmed_public_case_is_answered_without_repeating_the_visitors_subject(
        case, smtp_sink):
    Case.objects.filter(pk=case.pk).update(verified=False, subject="Send refund to IBAN TR00")

    reply = case_reply(case=case, author=None, body="Please confirm your message first.")
    case_message_send(message_id=reply.pk)

    assert smtp_sink.wait_for(1)
    assert "IBAN" not in str(smtp_sink.received[0].message["Subject"])


def test_staff_without_the_right_cannot_reply(client, case, django_user_model):
    client.force_login(django_user_model.objects.create_user("nobody", password="x"))

    response = client.post(reverse("support:case_reply", args=[case.pk]), {"body": "Hi"})

    assert response.status_code == 403 and not CaseMessage.objects.exists()


@pytest.mark.parametrize(("reason", "sent"), [("unsubscribed", True), ("bounced", False),
                                              ("complained", False)])
def test_answers_reach_unsubscribed_customers_but_never_a_bounced_or_complaining_address(
        client, sales_user, case, reason, sent, django_capture_on_commit_callbacks, mailoutbox):
    Suppression.objects.create(email="ayse@example.com", reason=reason)
    client.force_login(sales_user)

    response = _reply_on_page(client, case, "Your refund is on its way.",
                              django_capture_on_commit_callbacks)

    assert len(mailoutbox) == int(sent) and CaseMessage.objects.exists() == sent
    if not sent:
        html = response.content.decode()
        assert response.status_code == 400 and "cannot be emailed" in html
        assert "Your refund is on its way." in html  # the typed reply is kept
