"""Inbound email becomes a case on the sender's contact."""
import io
from email.message import EmailMessage

import pytest
from django.core.management import CommandError, call_command

from customers.tests.factories import ContactFactory
from support.models import Case

pytestmark = pytest.mark.django_db


def _raw(sender: str, subject: str = "Broken zip", body: str = "Please help.") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = "support@shop.example"
    message["Subject"] = subject
    message.set_content(body)
    return message.as_bytes()


def _receive(raw: bytes, monkeypatch) -> str:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    out = io.StringIO()
    call_command("receive_email", stdout=out)
    return out.getvalue()


def test_an_email_from_a_known_customer_opens_a_case_for_them(monkeypatch, sales_user):
    contact = ContactFactory(email="ayse@example.com", owner=sales_user)

    printed = _receive(_raw('"Ayşe Yılmaz" <Ayse@Example.com>', body="Zip broke.\n"),
                       monkeypatch)

    case = Case.objects.get()
    assert (case.contact, case.owner, case.channel) == (contact, sales_user, "email")
    assert case.description.strip() == "Zip broke." and "opened" in printed


def test_an_unknown_sender_becomes_a_contact(monkeypatch):
    folded = (b"From: New Person <new@example.com>\r\nSubject: Question\r\n\tabout my order\r\n"
              b"Content-Type: text/plain\r\n\r\nHello\r\n")
    _receive(folded, monkeypatch)

    case = Case.objects.get()
    assert case.contact.email == "new@example.com" and case.contact.first_name == "New"
    assert case.subject == "Question about my order"


def test_a_message_without_a_valid_sender_is_refused_and_stores_nothing(monkeypatch):
    with pytest.raises(CommandError, match="no valid sender"):
        _receive(_raw("not an address"), monkeypatch)

    assert not Case.objects.exists()
