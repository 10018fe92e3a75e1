"""A new case by email is the address owner's only when our own mail server vouched for its
From (Authentication-Results, RFC 8601); otherwise it opens unconfirmed, as from the public
form, and the owner is emailed the confirmation link."""
import pytest

from customers.tests.factories import ContactFactory
from support.inbound import email_receive
from support.models import Case

pytestmark = pytest.mark.django_db

SERVER = "mx.shop.example"


def _raw(sender: str, *results: str) -> bytes:
    headers = "".join(f"Authentication-Results: {result}\r\n" for result in results)
    return (f"{headers}From: Ayse <{sender}>\r\nTo: support@shop.example\r\n"
            "Subject: Where is my parcel?\r\nContent-Type: text/plain\r\n\r\nOrder 12\r\n"
            ).encode()


@pytest.fixture
def our_server(settings):
    settings.CRM_INBOUND_AUTHSERV_ID = SERVER


def _receive(raw: bytes, capture) -> Case:
    with capture(execute=True):
        return email_receive(raw).case


@pytest.mark.parametrize("result", [
    f"{SERVER}; dmarc=pass (p=reject) header.from=example.com",
    f"{SERVER}; dkim=pass header.d=example.com header.s=s1; spf=fail smtp.mailfrom=x.test",
    f"{SERVER.upper()}; dkim=pass header.d=example.com",  # authserv-id is case-insensitive
])
def test_a_sender_our_server_authenticated_opens_a_confirmed_case(
        our_server, result, django_capture_on_commit_callbacks, mailoutbox):
    contact = ContactFactory(email="ayse@example.com")

    case = _receive(_raw("ayse@example.com", result), django_capture_on_commit_callbacks)

    assert (case.contact, case.verified) == (contact, True)
    assert mailoutbox == []  # nothing to confirm


def test_a_signature_of_a_parent_domain_vouches_for_a_subdomain(
        our_server, django_capture_on_commit_callbacks):
    raw = _raw("ayse@mail.example.com", f"{SERVER}; dkim=pass header.d=example.com")

    assert _receive(raw, django_capture_on_commit_callbacks).verified


@pytest.mark.parametrize("result", [
    # Written by the sender: any name but our server's is theirs.
    "attacker.test; dmarc=pass header.from=example.com",
    # Our server's, but it vouches for something else or for nothing.
    f"{SERVER}; spf=pass smtp.mailfrom=example.com",  # SPF: the envelope, not the From
    f"{SERVER}; dkim=pass header.d=attacker.test",
    f"{SERVER}; dkim=pass header.d=notexample.com",
    f"{SERVER}; dkim=pass header.d=mail.example.com",  # a child does not vouch for its parent
    f"{SERVER}; dmarc=fail (p=none) header.from=example.com",
    f"{SERVER}; dkim=neutral header.d=example.com",
    f"{SERVER}; none",
    "this is not an Authentication-Results header ;;; ===",
])
def test_a_sender_nobody_vouched_for_opens_an_unconfirmed_case_and_gets_the_link(
        our_server, result, django_capture_on_commit_callbacks, mailoutbox):
    contact = ContactFactory(email="ayse@example.com")

    case = _receive(_raw("ayse@example.com", result), django_capture_on_commit_callbacks)

    assert (case.contact, case.verified) == (contact, False)
    [mail] = mailoutbox
    assert mail.to == ["ayse@example.com"] and "/cases/contact-us/confirm/" in mail.body
    assert "Order 12" not in mail.body  # the stranger's words never go to the owner


def test_without_our_servers_name_no_header_is_trusted(
        settings, django_capture_on_commit_callbacks, mailoutbox):
    settings.CRM_INBOUND_AUTHSERV_ID = ""
    raw = _raw("ayse@example.com", "mx.shop.example; dmarc=pass header.from=example.com")

    assert _receive(raw, django_capture_on_commit_callbacks).verified is False
    assert len(mailoutbox) == 1


def test_staff_see_why_an_email_case_is_unconfirmed(
        our_server, client, manager, django_capture_on_commit_callbacks):
    case = _receive(_raw("ayse@example.com"), django_capture_on_commit_callbacks)
    client.force_login(manager)

    page = client.get(f"/cases/{case.pk}/")

    assert b"our mail server did not authenticate" in page.content
