"""Every case has an owner: a case from the public form or an email goes to the contact's owner
when they can handle cases, else to the next person in turn (or the team's queue account);
two cases arriving together go to two people; old unowned cases are assigned by a command."""
import io
import threading
import time
from collections import Counter

import pytest
from django.contrib.auth.models import Group
from django.core import signing
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts.tests.factories import ManagerFactory, SalesStaffFactory, UserFactory
from customers.tests.factories import ContactFactory
from support.models import Case
from support.public import _SALT
from support.services import case_open, case_owner_pick

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()


@pytest.fixture
def team(db):
    """Two sales staff and a manager may handle cases; an inactive one and a user without a
    role may not."""
    people = [SalesStaffFactory(username="ali"), SalesStaffFactory(username="bea"),
              ManagerFactory(username="cem")]
    SalesStaffFactory(username="gone", is_active=False)
    UserFactory(username="norole")
    return people


def _public_post(client, email: str, address: str = "198.51.100.1"):
    return client.post(reverse("support:public_case"), {
        "email": email, "name": "", "subject": "Help", "message": "Please help.", "website": "",
        "started": signing.dumps(time.time() - 10, salt=_SALT)}, REMOTE_ADDR=address)


def test_public_form_cases_from_strangers_are_dealt_in_turn_to_everyone_who_can_handle_them(
        client, team):
    for n in range(6):
        assert _public_post(client, f"new{n}@example.com", f"198.51.100.{n}").status_code == 200

    owners = [case.owner.username for case in Case.objects.order_by("id")]

    assert owners == ["ali", "bea", "cem", "ali", "bea", "cem"]


def test_the_contacts_own_owner_is_preferred_when_they_can_handle_cases(client, team):
    bea = team[1]
    ContactFactory(email="known@example.com", owner=bea)

    _public_post(client, "known@example.com")

    assert Case.objects.get().owner == bea


def test_an_owner_who_left_does_not_get_the_case(team):
    gone = SalesStaffFactory(username="left", is_active=False)
    contact = ContactFactory(owner=gone)

    assert case_owner_pick(contact=contact) in team


def test_an_inbound_email_from_a_stranger_gets_an_owner(monkeypatch, team):
    raw = (b"From: New <new@example.com>\r\nTo: support@shop.example\r\nSubject: Hi\r\n"
           b"Content-Type: text/plain\r\n\r\nHello\r\n")
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(raw)))
    call_command("receive_email", stdout=io.StringIO())

    assert Case.objects.get().owner in team


def test_a_named_queue_account_takes_every_case(settings, team):
    settings.CRM_SUPPORT_ASSIGNMENT = "user:cem"

    assert {case_owner_pick(contact=ContactFactory()).username for _ in range(3)} == {"cem"}


def test_a_group_queue_deals_only_within_the_group(settings, team):
    desk = Group.objects.create(name="Support desk")
    team[0].groups.add(desk)
    team[2].groups.add(desk)
    settings.CRM_SUPPORT_ASSIGNMENT = "group:Support desk"

    picked = [case_owner_pick().username for _ in range(4)]

    assert picked == ["ali", "cem", "ali", "cem"]


def test_a_queue_account_that_left_falls_back_to_turns(settings, team):
    settings.CRM_SUPPORT_ASSIGNMENT = "user:gone"

    assert case_owner_pick() in team


def test_the_command_assigns_the_open_cases_nobody_owns(team):
    owned_contact = ContactFactory(owner=team[1])
    mine = case_open(contact=owned_contact, subject="Theirs", channel="email")
    stranger = case_open(contact=ContactFactory(), subject="Nobody's", channel="web")
    solved = case_open(contact=ContactFactory(), subject="Old", channel="web")
    Case.objects.filter(pk=solved.pk).update(status=Case.Status.SOLVED)
    out = io.StringIO()

    call_command("assign_unowned_cases", stdout=out)

    mine.refresh_from_db(), stranger.refresh_from_db(), solved.refresh_from_db()
    assert mine.owner == team[1] and stranger.owner in team and solved.owner is None
    assert "2" in out.getvalue()
    assert not Case.objects.exclude(status="solved").filter(owner__isnull=True).exists()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_cases_arriving_at_the_same_time_are_dealt_out_fairly():
    """Twelve picks on six connections at once: each of three people gets exactly four."""
    people = [SalesStaffFactory(username=f"p{n}") for n in range(3)]
    picked: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker() -> None:
        try:
            start.wait()
            for _ in range(2):
                picked.append(case_owner_pick().pk)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Counter(picked) == {person.pk: 4 for person in people}
