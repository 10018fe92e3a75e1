"""One write path for cases: the admin, the dashboard and inbound email (the receive_email
command) all open and move cases through support.services, so each door stores the same row.
The API only reads cases (api/listening.py), so it is not a door for writes."""
import datetime as dt
import io
import sys

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from customers.tests.factories import ContactFactory
from support.models import Case, Priority, ServiceTarget

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)
ADD_URL = reverse("admin:support_case_add")
# Everything a door decides; id and contact differ by construction, updated_at is the clock's.
STORED = ("subject", "description", "channel", "priority", "status", "owner_id", "created_at",
          "first_response_due", "resolution_due", "first_response_at", "solved_at", "verified",
          "confirmation_sent_at", "verified_at")


class Clock:
    """timezone.now for the services, the model defaults and auto_now alike, moved by hand."""

    def __init__(self, monkeypatch, start: dt.datetime) -> None:
        self.now = start
        monkeypatch.setattr(timezone, "now", lambda: self.now)

    def advance(self, **delta) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch, NOON)


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def _stored(case: Case) -> dict:
    case.refresh_from_db()
    return {field: getattr(case, field) for field in STORED}


def _admin_open(client, contact, **fields) -> Case:
    data = {"contact": contact.pk, "subject": "Parcel never came", "description": "Order 12",
            "channel": "phone", "priority": "high", "owner": "", **fields}
    response = client.post(ADD_URL, data)
    assert response.status_code == 302, response.context and response.context[
        "adminform"].form.errors
    return Case.objects.get(contact=contact)


def _admin_change(client, case: Case, **fields) -> None:
    case.refresh_from_db()
    data = {"subject": case.subject, "description": case.description, "channel": case.channel,
            "status": case.status, "owner": case.owner_id or "", **fields}
    response = client.post(reverse("admin:support_case_change", args=[case.pk]), data)
    assert response.status_code == 302, response.context and response.context[
        "adminform"].form.errors


# --- The admin --------------------------------------------------------------------------------

def test_adding_a_case_in_the_admin_fixes_its_due_times_from_the_targets(manager_client,
                                                                         manager, clock):
    ServiceTarget.objects.create(priority=Priority.HIGH, first_response_hours=2,
                                 resolution_hours=10)

    case = _admin_open(manager_client, ContactFactory(), owner=manager.pk)

    assert (case.status, case.owner, case.created_at) == (Case.Status.NEW, manager, NOON)
    assert case.first_response_due == NOON + dt.timedelta(hours=2)
    assert case.resolution_due == NOON + dt.timedelta(hours=10)
    assert case.first_response_at is None and case.solved_at is None


def test_the_admin_pages_show_the_service_fields_read_only(manager_client, clock):
    assert manager_client.get(ADD_URL).status_code == 200
    case = _admin_open(manager_client, ContactFactory())

    page = manager_client.get(reverse("admin:support_case_change", args=[case.pk]))

    form = page.context["adminform"].form
    assert set(form.fields) == {"subject", "description", "channel", "status", "owner"}


def test_the_admin_refuses_a_blank_subject_and_stores_nothing(manager_client):
    response = manager_client.post(ADD_URL, {
        "contact": ContactFactory().pk, "subject": "   ", "channel": "phone",
        "priority": "normal"})

    assert response.status_code == 200
    assert "subject" in response.context["adminform"].form.errors
    assert not Case.objects.exists()


def test_a_status_change_in_the_admin_stamps_the_solution_and_a_reply_the_first_answer(
        manager_client, clock):
    case = _admin_open(manager_client, ContactFactory())

    clock.advance(hours=1)
    _admin_change(manager_client, case, status=Case.Status.WAITING)
    case.refresh_from_db()
    assert case.first_response_at is None  # a status change alone is not an answer (#19)
    clock.advance(hours=2)
    _reply(manager_client, case)
    case.refresh_from_db()
    assert case.first_response_at == NOON + dt.timedelta(hours=3)
    assert case.solved_at is None

    clock.advance(hours=5)
    _admin_change(manager_client, case, status=Case.Status.SOLVED)
    case.refresh_from_db()
    assert case.first_response_at == NOON + dt.timedelta(hours=3)  # the first answer stays
    assert case.solved_at == NOON + dt.timedelta(hours=8)

    clock.advance(hours=1)
    _admin_change(manager_client, case, status=Case.Status.OPEN)  # reopened: the clock runs
    case.refresh_from_db()
    assert case.solved_at is None


def test_the_admin_cannot_set_what_the_services_own(manager_client, clock):
    case = _admin_open(manager_client, ContactFactory(), priority="low")
    forged = NOON - dt.timedelta(days=30)
    other = ContactFactory()

    _admin_change(manager_client, case, subject="  Wrong size  ", contact=other.pk,
                  priority="urgent", verified="", solved_at=forged, first_response_at=forged,
                  first_response_due=forged, resolution_due=forged, created_at=forged)

    case.refresh_from_db()
    assert case.subject == "Wrong size"  # an edit goes through case_edit, which trims
    assert (case.contact_id, case.priority, case.verified) != (other.pk, "urgent", False)
    assert case.created_at == NOON and case.first_response_at is None
    assert case.first_response_due == NOON + dt.timedelta(hours=24)  # default low: 24 h / 168 h
    assert case.resolution_due == NOON + dt.timedelta(hours=168)
    assert case.solved_at is None


def test_an_owner_change_in_the_admin_leaves_the_clocks_alone(manager_client, manager, clock):
    case = _admin_open(manager_client, ContactFactory())
    clock.advance(hours=1)

    _admin_change(manager_client, case, owner=manager.pk)

    case.refresh_from_db()
    assert (case.owner, case.status, case.first_response_at) == (manager, "new", None)


# --- Parity: the same case through every door that writes cases --------------------------------

def _reply(client, case) -> None:
    """The first answer: a reply sent from the case page (neither the admin nor a status change
    answers the customer)."""
    response = client.post(reverse("support:case_reply", args=[case.pk]),
                           {"body": "We are on it."})
    assert response.status_code == 302


def _through_admin(client, contact, clock) -> Case:
    case = _admin_open(client, contact, owner=contact.owner_id)
    clock.advance(hours=2)
    _admin_change(client, case, status=Case.Status.OPEN)
    _reply(client, case)
    clock.advance(hours=4)
    _admin_change(client, case, status=Case.Status.SOLVED)
    return case


def _through_dashboard(client, contact, clock) -> Case:
    client.post(reverse("support:case_create", args=[contact.pk]), {
        "subject": "Parcel never came", "description": "Order 12", "channel": "phone",
        "priority": "high"})
    case = Case.objects.get(contact=contact)
    clock.advance(hours=2)
    client.post(reverse("support:case_status", args=[case.pk]), {"status": "open"})
    _reply(client, case)
    clock.advance(hours=4)
    client.post(reverse("support:case_status", args=[case.pk]), {"status": "solved"})
    return case


@pytest.mark.parametrize("door", [_through_admin, _through_dashboard])
def test_a_case_opened_and_solved_is_stored_the_same_through_each_door(
        door, manager_client, manager, clock):
    ServiceTarget.objects.create(priority=Priority.HIGH, first_response_hours=3,
                                 resolution_hours=30)
    # The dashboard makes the person opening the case its owner; the admin is given the same.
    contact = ContactFactory(owner=manager)

    case = door(manager_client, contact, clock)

    assert _stored(case) == {
        "subject": "Parcel never came", "description": "Order 12", "channel": "phone",
        "priority": "high", "status": "solved", "owner_id": manager.pk, "created_at": NOON,
        "first_response_due": NOON + dt.timedelta(hours=3),
        "resolution_due": NOON + dt.timedelta(hours=30),
        "first_response_at": NOON + dt.timedelta(hours=2),
        "solved_at": NOON + dt.timedelta(hours=6), "verified": True,
        "confirmation_sent_at": None, "verified_at": None}


def _open_in_admin(client, contact, monkeypatch) -> Case:
    return _admin_open(client, contact, subject="Parcel never came", description="Order 12",
                       channel="email", priority="normal", owner=contact.owner_id)


def _open_in_dashboard(client, contact, monkeypatch) -> Case:
    client.post(reverse("support:case_create", args=[contact.pk]), {
        "subject": "Parcel never came", "description": "Order 12", "channel": "email",
        "priority": "normal"})
    return Case.objects.get(contact=contact)


def _open_by_email(client, contact, monkeypatch) -> Case:
    # Our mail server vouched for the sender (support.inbound.sender_authenticated), as the
    # staff at the admin and dashboard doors vouch for theirs.
    monkeypatch.setattr(settings, "CRM_INBOUND_AUTHSERV_ID", "mx.shop.example")
    domain = contact.email.rpartition("@")[2]
    raw = (f"Authentication-Results: mx.shop.example; dmarc=pass header.from={domain}\r\n"
           f"From: Ann <{contact.email}>\r\nTo: support@shop.example\r\n"
           "Subject: Parcel never came\r\nContent-Type: text/plain\r\n\r\nOrder 12\r\n")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(raw.encode())))
    call_command("receive_email", stdout=io.StringIO())
    return Case.objects.get(contact=contact)


@pytest.mark.parametrize("door", [_open_in_admin, _open_in_dashboard, _open_by_email])
def test_a_case_is_opened_the_same_through_the_admin_the_dashboard_and_email(
        door, manager_client, manager, clock, monkeypatch):
    contact = ContactFactory(owner=manager)

    case = door(manager_client, contact, monkeypatch)

    assert _stored(case) == {
        "subject": "Parcel never came", "description": "Order 12", "channel": "email",
        "priority": "normal", "status": "new", "owner_id": manager.pk, "created_at": NOON,
        "first_response_due": NOON + dt.timedelta(hours=8),
        "resolution_due": NOON + dt.timedelta(hours=72), "first_response_at": None,
        "solved_at": None, "verified": True, "confirmation_sent_at": None, "verified_at": None}
