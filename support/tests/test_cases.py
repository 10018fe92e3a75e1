"""Support cases: opened from the contact page, answered and solved against the targets."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from customers.tests.factories import ContactFactory
from support.models import Case, Priority, ServiceTarget
from support.selectors import open_cases, overdue_cases
from support.services import case_open, case_reply, case_set_status

pytestmark = pytest.mark.django_db
NOON = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone.utc)


def test_due_times_follow_the_managers_targets_with_a_fixed_clock():
    ServiceTarget.objects.create(priority=Priority.HIGH, first_response_hours=2,
                                 resolution_hours=10)

    case = case_open(contact=ContactFactory(), subject="Parcel never came", channel="phone",
                     priority=Priority.HIGH, now=NOON)

    assert case.first_response_due == NOON + dt.timedelta(hours=2)
    assert case.resolution_due == NOON + dt.timedelta(hours=10)
    assert not case.is_overdue(NOON + dt.timedelta(hours=1, minutes=59))
    assert case.is_overdue(NOON + dt.timedelta(hours=2, minutes=1))


def test_the_first_answer_stops_the_first_clock_and_solving_stops_the_second():
    case = case_open(contact=ContactFactory(), subject="Wrong size", channel="email",
                     priority=Priority.NORMAL, now=NOON)  # default target: 8 h / 72 h

    case_set_status(case=case, status=Case.Status.OPEN, now=NOON + dt.timedelta(hours=1))
    assert case.first_response_at is None  # a status change alone is not an answer (#19)
    case_reply(case=case, author=None, body="We are looking into it.",
               now=NOON + dt.timedelta(hours=3))
    case_set_status(case=case, status=Case.Status.WAITING, now=NOON + dt.timedelta(hours=5))

    assert case.first_response_at == NOON + dt.timedelta(hours=3)
    assert not case.is_overdue(NOON + dt.timedelta(hours=9))  # answered: the solution is due
    assert case.is_overdue(NOON + dt.timedelta(hours=73))
    case_set_status(case=case, status=Case.Status.SOLVED, now=NOON + dt.timedelta(hours=80))
    assert case.solved_at == NOON + dt.timedelta(hours=80)
    assert not case.is_overdue(NOON + dt.timedelta(days=30))


def test_my_open_cases_come_overdue_first(sales_user):
    contact = ContactFactory()
    later = case_open(contact=contact, subject="Later", channel="phone",
                      priority=Priority.LOW, owner=sales_user)
    urgent = case_open(contact=contact, subject="Urgent", channel="phone",
                       priority=Priority.URGENT, owner=sales_user,
                       now=timezone.now() - dt.timedelta(hours=2))
    solved = case_open(contact=contact, subject="Done", channel="phone", owner=sales_user)
    case_set_status(case=solved, status=Case.Status.SOLVED)

    assert list(open_cases(owner=sales_user)) == [urgent, later]
    assert list(overdue_cases(owner=sales_user)) == [urgent]


def test_staff_open_a_case_from_the_contact_page_and_solve_it(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)

    page = client.post(reverse("support:case_create", args=[contact.pk]),
                       {"subject": "Refund question", "channel": "phone", "priority": "high"},
                       follow=True)
    case = Case.objects.get()
    client.post(reverse("support:case_reply", args=[case.pk]), {"body": "Refund on its way."})
    client.post(reverse("support:case_status", args=[case.pk]),
                {"status": "solved", "back": "https://evil.example/"})

    case.refresh_from_db()
    assert "Refund question" in page.content.decode()
    assert (case.owner, case.priority, case.status) == (sales_user, "high", "solved")
    assert case.first_response_at is not None and case.solved_at is not None


def test_a_case_without_a_subject_is_refused_and_nothing_saved(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)

    response = client.post(reverse("support:case_create", args=[contact.pk]),
                           {"subject": "  ", "channel": "phone", "priority": "normal"},
                           follow=True)

    assert not Case.objects.exists() and "alert-danger" in response.content.decode()


def test_overdue_cases_stand_out_on_the_call_list(client, sales_user):
    case_open(contact=ContactFactory(first_name="Waiting"), subject="Broken zip",
              channel="phone", priority=Priority.URGENT, owner=sales_user,
              now=timezone.now() - dt.timedelta(hours=3))
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:today")).content.decode()

    assert 'data-testid="overdue-cases"' in html and "Broken zip" in html


def test_my_cases_lists_only_mine(client, sales_user):
    case_open(contact=ContactFactory(), subject="Mine", channel="phone", owner=sales_user)
    case_open(contact=ContactFactory(), subject="Theirs", channel="phone",
              owner=SalesStaffFactory(username="other"))
    client.force_login(sales_user)

    html = client.get(reverse("support:my_cases")).content.decode()

    assert "Mine" in html and "Theirs" not in html


def test_anonymous_users_cannot_open_cases(client):
    contact = ContactFactory()

    response = client.post(reverse("support:case_create", args=[contact.pk]), {"subject": "x"})

    assert response.status_code == 302 and not Case.objects.exists()
