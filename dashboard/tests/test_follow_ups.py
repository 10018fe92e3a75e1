"""Notes and follow-up tasks from the contact page."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory, UserFactory
from customers.followups import follow_up_add
from customers.models import FollowUp, Note
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_staff_add_a_note_and_see_it_on_the_contact_page(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)

    response = client.post(reverse("dashboard:note_create", args=[contact.pk]),
                           {"body": "Prefers calls after 5pm"}, follow=True)

    assert Note.objects.get().author == sales_user
    assert "Prefers calls after 5pm" in response.content.decode()
    assert "Note added." in response.content.decode()


def test_an_empty_note_is_refused_and_nothing_saved(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)

    response = client.post(reverse("dashboard:note_create", args=[contact.pk]), {"body": "   "},
                           follow=True)

    assert not Note.objects.exists()
    assert "alert-danger" in response.content.decode()


def test_a_follow_up_is_scheduled_and_marked_done(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)
    due = timezone.localdate() + dt.timedelta(days=2)

    client.post(reverse("dashboard:follow_up_create", args=[contact.pk]),
                {"title": "Send the catalogue", "due_on": due.isoformat()})
    task = FollowUp.objects.get()
    client.post(reverse("dashboard:follow_up_toggle", args=[task.pk]), {"done": "1"})

    task.refresh_from_db()
    assert (task.assigned_to, task.due_on, task.is_done) == (sales_user, due, True)


def test_a_bad_due_date_gives_a_clear_error(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)

    response = client.post(reverse("dashboard:follow_up_create", args=[contact.pk]),
                           {"title": "Call", "due_on": "31/02/2026"}, follow=True)

    assert not FollowUp.objects.exists()
    assert "Enter a valid date" in response.content.decode()


def test_nobody_else_can_tick_off_my_task(client, sales_user):
    task = follow_up_add(contact=ContactFactory(), assigned_to=sales_user, title="Mine",
                         due_on=timezone.localdate())
    client.force_login(SalesStaffFactory(username="other"))

    response = client.post(reverse("dashboard:follow_up_toggle", args=[task.pk]), {"done": "1"})

    task.refresh_from_db()
    assert response.status_code == 403 and not task.is_done


def test_the_toggle_does_not_redirect_off_site(client, sales_user):
    task = follow_up_add(contact=ContactFactory(), assigned_to=sales_user, title="Mine",
                         due_on=timezone.localdate())
    client.force_login(sales_user)

    response = client.post(reverse("dashboard:follow_up_toggle", args=[task.pk]),
                           {"done": "1", "next": "https://evil.example/"})

    assert response["Location"] == reverse("dashboard:contact_detail", args=[task.contact_id])


def test_my_follow_ups_lists_only_mine_and_open(client, sales_user):
    contact = ContactFactory()
    follow_up_add(contact=contact, assigned_to=sales_user, title="Open one",
                  due_on=timezone.localdate())
    done = follow_up_add(contact=contact, assigned_to=sales_user, title="Done one",
                         due_on=timezone.localdate())
    done.done_at = timezone.now()
    done.save()
    follow_up_add(contact=contact, assigned_to=SalesStaffFactory(username="b"),
                  title="Someone else's", due_on=timezone.localdate())
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:my_follow_ups")).content.decode()

    assert "Open one" in html and "Done one" not in html and "Someone else" not in html


def test_follow_up_actions_need_a_post(client, sales_user):
    contact = ContactFactory()
    client.force_login(sales_user)

    assert client.get(reverse("dashboard:note_create", args=[contact.pk])).status_code == 405


def test_the_owner_is_changed_from_the_contact_page(client, sales_user):
    contact = ContactFactory()
    colleague = SalesStaffFactory(username="colleague", first_name="Col")
    client.force_login(sales_user)

    response = client.post(reverse("dashboard:owner_change", args=[contact.pk]),
                           {"owner": colleague.pk}, follow=True)
    contact.refresh_from_db()
    cleared = client.post(reverse("dashboard:owner_change", args=[contact.pk]), {"owner": ""})

    assert "Owner changed to" in response.content.decode()
    assert contact.owner == colleague
    contact.refresh_from_db()
    assert cleared.status_code == 302 and contact.owner is None


def test_only_role_holders_can_own_contacts(client, sales_user):
    # customers.owners: active sales staff or managers (test_owner_rule.py covers every door).
    contact = ContactFactory()
    client.force_login(sales_user)

    client.post(reverse("dashboard:owner_change", args=[contact.pk]),
                {"owner": UserFactory(username="norole").pk})

    contact.refresh_from_db()
    assert contact.owner is None
