"""Follow-up reminders (customers/services/follow_up_reminders.py): an email to the assignee at
the due time, or at CRM_FOLLOW_UP_REMIND_HOUR on the due day; once, in their language, with a
link to the contact page; again after a reassignment or a reschedule; never once done."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory
from customers.followups import follow_up_add, follow_up_set_done, follow_up_update
from customers.models import FollowUp
from customers.services.follow_up_reminders import (
    follow_up_reminders_claim, follow_up_reminders_send,
)
from customers.tasks import follow_up_reminders_task
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

ISTANBUL = ZoneInfo("Europe/Istanbul")
DAY = dt.date(2026, 12, 8)


@pytest.fixture(autouse=True)
def _shop(settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    settings.CRM_PUBLIC_URL = "https://crm.example.com/"
    settings.CRM_FOLLOW_UP_REMIND_HOUR = 9


def at(hour: int, minute: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=ISTANBUL)


def task(user, *, due_time: dt.time | None = dt.time(10, 30), **fields) -> FollowUp:
    contact = fields.pop("contact", None) or ContactFactory(first_name="Ayla", last_name="Kaya")
    return follow_up_add(contact=contact, assigned_to=user, created_by=user,
                         title=fields.pop("title", "Call about the coat"), due_on=DAY,
                         due_time=due_time, **fields)


def test_a_timed_follow_up_is_reminded_at_its_time_once(sales_user):
    follow_up = task(sales_user)

    before = follow_up_reminders_send(now=at(10, 29))
    due = follow_up_reminders_send(now=at(10, 30))
    again = follow_up_reminders_send(now=at(10, 31))

    assert (before, due, again) == (0, 1, 0)
    [email] = mail.outbox
    assert email.to == [sales_user.email]
    assert "Call about the coat" in email.subject and "Ayla Kaya" in email.subject
    url = "https://crm.example.com" + reverse("dashboard:contact_detail",
                                              args=[follow_up.contact_id])
    assert url in email.body
    follow_up.refresh_from_db()
    assert follow_up.reminded_at is not None


def test_a_follow_up_without_a_time_is_reminded_in_the_morning_of_its_day(sales_user):
    task(sales_user, due_time=None)

    assert follow_up_reminders_send(now=at(8, 59)) == 0
    assert follow_up_reminders_send(now=at(9, 0)) == 1


def test_the_morning_hour_is_a_setting(sales_user, settings):
    settings.CRM_FOLLOW_UP_REMIND_HOUR = 7
    follow_up = task(sales_user, due_time=None)

    assert follow_up.remind_at == at(7)


def test_running_twice_at_once_sends_once(sales_user):
    task(sales_user)
    task(sales_user, title="Second")

    first = follow_up_reminders_claim(now=at(11))
    second = follow_up_reminders_claim(now=at(11))
    follow_up_reminders_send(now=at(11))

    assert len(first) == 2 and second == [] and mail.outbox == []


def test_the_periodic_task_sends_what_is_due(sales_user):
    task(sales_user, due_time=dt.time(0, 0), contact=ContactFactory())
    FollowUp.objects.update(remind_at=timezone.now() - dt.timedelta(minutes=1))

    follow_up_reminders_task()
    follow_up_reminders_task()

    assert len(mail.outbox) == 1


def test_a_done_follow_up_is_never_reminded(sales_user):
    follow_up = task(sales_user)
    follow_up_set_done(follow_up=follow_up, done=True)

    assert follow_up_reminders_send(now=at(12)) == 0
    assert mail.outbox == []


def test_a_reassigned_follow_up_reminds_the_new_assignee(sales_user):
    follow_up = task(sales_user)
    follow_up_reminders_send(now=at(10, 30))
    colleague = SalesStaffFactory(username="colleague")

    follow_up_update(follow_up=follow_up, assigned_to=colleague, title=follow_up.title,
                     due_on=follow_up.due_on, due_time=follow_up.due_time, changed_by=sales_user)
    sent = follow_up_reminders_send(now=at(10, 31))

    assert sent == 1
    assert [email.to for email in mail.outbox] == [[sales_user.email], [colleague.email]]


def test_a_rescheduled_follow_up_is_reminded_again_at_its_new_time(sales_user):
    follow_up = task(sales_user)
    follow_up_reminders_send(now=at(10, 30))

    follow_up_update(follow_up=follow_up, assigned_to=sales_user, title=follow_up.title,
                     due_on=DAY + dt.timedelta(days=1), due_time=dt.time(15, 0),
                     changed_by=sales_user)

    assert follow_up_reminders_send(now=at(14, 59, DAY + dt.timedelta(days=1))) == 0
    assert follow_up_reminders_send(now=at(15, 0, DAY + dt.timedelta(days=1))) == 1
    assert len(mail.outbox) == 2


def test_a_new_title_alone_does_not_remind_again(sales_user):
    follow_up = task(sales_user)
    follow_up_reminders_send(now=at(10, 30))

    follow_up_update(follow_up=follow_up, assigned_to=sales_user, title="Reworded",
                     due_on=follow_up.due_on, due_time=follow_up.due_time,
                     changed_by=sales_user)

    assert follow_up_reminders_send(now=at(11)) == 0


def test_a_turkish_assignee_gets_the_reminder_in_turkish(sales_user):
    sales_user.language = "tr"
    sales_user.save()
    task(sales_user)

    follow_up_reminders_send(now=at(10, 30))

    body = mail.outbox[0].body
    assert "Kişi: Ayla Kaya" in body
    assert "Son tarih: 08 Ara 2026 10:30" in body


def test_an_english_assignee_gets_it_in_english(sales_user):
    sales_user.language = "en"
    sales_user.save()
    task(sales_user)

    follow_up_reminders_send(now=at(10, 30))

    assert "Contact: Ayla Kaya" in mail.outbox[0].body


def test_a_failed_send_is_retried_by_the_next_run(sales_user, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    task(sales_user)

    def refuse(self, messages):
        raise OSError("SMTP down")

    with monkeypatch.context() as patched:
        patched.setattr(EmailBackend, "send_messages", refuse)
        with pytest.raises(OSError):
            follow_up_reminders_send(now=at(10, 30))

    assert FollowUp.objects.get().reminded_at is None
    assert follow_up_reminders_send(now=at(10, 31)) == 1


def test_an_assignee_without_an_address_is_skipped_and_not_retried(sales_user):
    sales_user.email = ""
    sales_user.save()
    task(sales_user)

    assert follow_up_reminders_send(now=at(10, 30)) == 0
    assert FollowUp.objects.get().reminded_at is not None


def test_a_colleague_outside_the_sales_roles_cannot_be_given_a_follow_up(sales_user):
    from django.core.exceptions import ValidationError

    from accounts.tests.factories import UserFactory

    with pytest.raises(ValidationError) as refused:
        follow_up_add(contact=ContactFactory(), assigned_to=UserFactory(username="norole"),
                      created_by=sales_user, title="Call", due_on=DAY)

    assert "assigned_to" in refused.value.message_dict


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_on_postgres_claim_each_reminder_once(sales_user):
    import threading

    from django.db import connection

    contact = ContactFactory()
    for number in range(40):
        task(sales_user, contact=contact, title=f"Task {number}")
    barrier, claimed = threading.Barrier(4), []

    def run() -> None:
        try:
            barrier.wait()
            claimed.append(follow_up_reminders_claim(now=at(11), limit=15))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    ids = [pk for batch in claimed for pk in batch]
    assert len(ids) == len(set(ids)) == 40


@pytest.mark.django_db(transaction=True)
def test_the_migration_reminds_open_follow_ups_from_now_on_not_the_old_overdue_ones():
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    before = [("customers", "0021_calls_calllog")]
    after = [("customers", "0022_followups_time_reminder")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    state = executor.loader.project_state(before).apps
    old_contact = state.get_model("customers", "Contact").objects.create(
        email="old@example.com")
    from accounts.tests.factories import UserFactory

    user_id = UserFactory(username="old").pk  # the accounts tables are at their latest
    old_follow_up = state.get_model("customers", "FollowUp").objects
    today = timezone.localdate()
    for title, days, done in (("past", -2, None), ("coming", 2, None),
                              ("done", -2, timezone.now())):
        old_follow_up.create(contact=old_contact, assigned_to_id=user_id, title=title,
                             due_on=today + dt.timedelta(days=days), done_at=done)
    executor = MigrationExecutor(connection)
    executor.migrate(after)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())  # back to the latest state

    rows = {row.title: row for row in FollowUp.objects.all()}
    coming = rows["coming"]
    assert coming.remind_at == at(9, day=today + dt.timedelta(days=2))
    assert coming.reminded_at is None
    assert rows["past"].reminded_at is not None  # no burst of old reminders on upgrade
    assert rows["done"].remind_at is None
