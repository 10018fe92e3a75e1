"""One suppression, every door. Two logical writes:

- "unsubscribe": the person no longer wants marketing email. campaigns.suppression
  .contact_unsubscribe withdraws consent (a ledger record) and suppresses the address; the
  unsubscribe page, a mail client's one-click POST, a spam complaint (the receive_bounce
  command) and the Suppression admin's add form (as unsubscribed or as complained) must each
  leave the same. The suppression's reason and detail and the ledger's method, source and
  recorder name the door (a complaint is "complained").
- "bounce": the address does not exist. campaigns.suppression.address_suppress as bounced; the
  receive_bounce command (a delivery report), the sender meeting a 5xx refusal and the
  admin's add form must leave the same, consent untouched (the person never said no).

Every door gets the address in another spelling; the stored one is normalised.
"""
import io

import pytest
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from campaigns.models import Suppression
from campaigns.outbox import send_due_messages
from campaigns.suppression import address_suppress, contact_unsubscribe
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture
from campaigns.tests.test_bounces import _complaint, _report
from campaigns.tokens import unsubscribe_token
from customers.tests.doors import (admin_post, admin_url, assert_same, browser, consent_doors,
                                   consenting_contact, contact_snapshot)
from customers.consent.models import ConsentMethod

pytestmark = pytest.mark.django_db

Reason = Suppression.Reason


@pytest.fixture
def run(db):
    """The campaign run each lane's contact was emailed by (one sent message each)."""
    return CampaignRunFactory()


def lane(email: str, run, status: str = "sent"):
    contact = consenting_contact(email)
    message = MessageFactory(run=run, contact=contact, status=status, to_email=email)
    return contact, message


def state(contact) -> dict:
    """The contact's snapshot; the suppression's reason and detail name the door."""
    snapshot = contact_snapshot(contact)
    snapshot.pop("suppression")
    return snapshot


def door_names(contact) -> tuple:
    row = Suppression.objects.get(email=contact.email)
    return row.reason, row.detail, consent_doors(contact)[1:]


def _stdin(monkeypatch, raw: bytes) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))


# --- Unsubscribe ------------------------------------------------------------------------------

def unsubscribe_page(contact, message, users, monkeypatch):
    """The person opens the link in the email and presses the button (a browser: CSRF)."""
    client = Client(enforce_csrf_checks=True)
    url = reverse("campaigns:unsubscribe", args=[unsubscribe_token(contact.pk)])
    assert client.get(url).status_code == 200
    token = client.cookies["csrftoken"].value if "csrftoken" in client.cookies else ""
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 200


def unsubscribe_one_click(contact, message, users, monkeypatch):
    """The mail client's List-Unsubscribe-Post (RFC 8058): no page, no cookie."""
    url = reverse("campaigns:unsubscribe", args=[unsubscribe_token(contact.pk)])
    response = Client(enforce_csrf_checks=True).post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200


def unsubscribe_complaint(contact, message, users, monkeypatch):
    _stdin(monkeypatch, _complaint(message.message_id, recipient=contact.email.upper()))
    call_command("receive_bounce", stdout=io.StringIO())


def unsubscribe_admin(contact, message, users, monkeypatch):
    """A manager records "unsubscribed" for the address (the person asked by phone)."""
    admin_post(browser(users["manager"]), admin_url(Suppression, "add"), {
        "email": f"  {contact.email.upper()} ", "reason": Reason.UNSUBSCRIBED,
        "detail": "asked by phone"})


def unsubscribe_admin_complaint(contact, message, users, monkeypatch):
    """A manager records a complaint the mailbox provider reported some other way."""
    admin_post(browser(users["manager"]), admin_url(Suppression, "add"), {
        "email": contact.email.title(), "reason": Reason.COMPLAINED,
        "detail": "forwarded report"})


UNSUBSCRIBE = {
    "page": (unsubscribe_page, (Reason.UNSUBSCRIBED, "unsubscribe-link", [
        (ConsentMethod.UNSUBSCRIBE_LINK, "unsubscribe-link", "")])),
    "one-click": (unsubscribe_one_click, (Reason.UNSUBSCRIBED, "unsubscribe-link", [
        (ConsentMethod.ONE_CLICK, "unsubscribe-link", "")])),
    "complaint": (unsubscribe_complaint, (Reason.COMPLAINED, None, [
        (ConsentMethod.SPAM_COMPLAINT, "spam complaint", "")])),
    "admin": (unsubscribe_admin, (Reason.UNSUBSCRIBED, "asked by phone", [
        (ConsentMethod.REQUEST, "admin", "marta")])),
    "admin complaint": (unsubscribe_admin_complaint, (Reason.COMPLAINED, "forwarded report", [
        (ConsentMethod.SPAM_COMPLAINT, "admin", "marta")])),
}


@pytest.mark.parametrize("door", list(UNSUBSCRIBE))
def test_an_unsubscribe_through_each_door(door, run, manager, monkeypatch):
    reference, _message = lane("reference@example.com", run)
    contact, message = lane(f"{door.replace(' ', '-')}@example.com", run)
    contact_unsubscribe(contact=reference, source="unsubscribe-link")
    write, (reason, detail, ledger) = UNSUBSCRIBE[door]

    write(contact, message, {"manager": manager}, monkeypatch)
    if not door.startswith("admin"):  # the admin refuses an address listed already: right
        write(contact, message, {"manager": manager}, monkeypatch)  # again: nothing more

    expected = state(reference)
    assert_same(state(contact), expected)
    got_reason, got_detail, got_ledger = door_names(contact)
    assert (got_reason, got_ledger) == (reason, ledger)
    assert detail is None or got_detail == detail
    assert expected["marketing_consent"] is False
    assert [row[0] for row in expected["consent_ledger"]] == [True, False]
    assert expected["messages"] == [(run.campaign.name, "sent")]


# --- Bounce -----------------------------------------------------------------------------------

def bounce_report(contact, message, users, monkeypatch):
    _stdin(monkeypatch, _report(message.message_id, recipient=contact.email))
    call_command("receive_bounce", stdout=io.StringIO())


def bounce_admin(contact, message, users, monkeypatch):
    admin_post(browser(users["manager"]), admin_url(Suppression, "add"), {
        "email": f" {contact.email.upper()}  ", "reason": Reason.BOUNCED, "detail": "550"})


def bounce_at_send(contact, message, users, monkeypatch):
    """The receiving server refuses the address while the campaign sends (a real SMTP
    server on loopback): the send marks the email bounced and suppresses the address."""
    users["smtp"].rcpt_replies[contact.email] = "550 5.1.1 No such user"
    send_due_messages()


BOUNCE = {"report": bounce_report, "admin": bounce_admin, "send": bounce_at_send}
MARKS_THE_EMAIL = {"report", "send"}  # the admin knows of no email


@pytest.mark.parametrize("door", sorted(BOUNCE))
def test_a_bounce_through_each_door(door, run, manager, monkeypatch, smtp_sink):
    reference, _message = lane("reference@example.com", run)
    contact, message = lane(f"{door}@example.com", run,
                            status="queued" if door == "send" else "sent")
    address_suppress(email=reference.email, reason=Reason.BOUNCED, detail="550")

    BOUNCE[door](contact, message, {"manager": manager, "smtp": smtp_sink}, monkeypatch)

    expected, got = state(reference), state(contact)
    assert [status for _name, status in got.pop("messages")] == [
        "bounced" if door in MARKS_THE_EMAIL else "sent"]
    expected.pop("messages")
    assert_same(got, expected)
    assert door_names(contact)[0] == Reason.BOUNCED
    assert Suppression.objects.filter(email__iexact=contact.email).count() == 1
    assert expected["marketing_consent"] is True  # a bounce is no withdrawal
    assert [row[0] for row in expected["consent_ledger"]] == [True]
    assert smtp_sink.received == []  # nothing reached anyone
