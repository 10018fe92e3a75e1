"""Notes and follow-up tasks from the contact page."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import SalesStaffFactory, UserFactory
from customers import followups
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


# --- #19.5: a time, an assignee, the nav bar's count, overdue on the contact page --------------

def test_a_follow_up_gets_a_time_and_a_colleague_from_the_contact_page(client, sales_user):
    contact = ContactFactory()
    colleague = SalesStaffFactory(username="colleague", first_name="Cem", last_name="Demir")
    client.force_login(sales_user)
    due = timezone.localdate() + dt.timedelta(days=2)

    response = client.post(reverse("dashboard:follow_up_create", args=[contact.pk]),
                           {"title": "Show the new coats", "due_on": due.isoformat(),
                            "due_time": "14:30", "assigned_to": colleague.pk}, follow=True)

    task = FollowUp.objects.get()
    assert (task.assigned_to, task.created_by, task.due_on, task.due_time) == (
        colleague, sales_user, due, dt.time(14, 30))
    assert task.remind_at == timezone.make_aware(dt.datetime.combine(due, dt.time(14, 30)))
    html = response.content.decode()
    assert "Follow-up scheduled." in html and "Cem Demir" in html and "at 14:30" in html


def test_the_assignee_menu_names_colleagues_and_starts_on_me(client, sales_user):
    sales_user.first_name, sales_user.last_name = "Sam", "Seller"
    sales_user.save()
    SalesStaffFactory(username="colleague", first_name="Cem", last_name="Demir")
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[ContactFactory().pk])
                      ).content.decode()

    menu = html[html.index('id="id_assigned_to"'):]
    menu = menu[:menu.index("</select>")]
    assert f'<option value="{sales_user.pk}" selected>Sam Seller</option>' in menu
    assert ">Cem Demir</option>" in menu and "colleague<" not in menu


def test_without_a_time_or_an_assignee_it_is_mine_for_the_whole_day(client, sales_user):
    client.force_login(sales_user)
    due = timezone.localdate() + dt.timedelta(days=1)

    client.post(reverse("dashboard:follow_up_create", args=[ContactFactory().pk]),
                {"title": "Call", "due_on": due.isoformat()})

    task = FollowUp.objects.get()
    assert (task.assigned_to, task.due_time) == (sales_user, None)


def test_a_follow_up_cannot_be_given_to_someone_outside_the_sales_roles(client, sales_user):
    client.force_login(sales_user)
    outsider = UserFactory(username="outsider")

    response = client.post(reverse("dashboard:follow_up_create", args=[ContactFactory().pk]),
                           {"title": "Call", "due_on": timezone.localdate().isoformat(),
                            "assigned_to": outsider.pk}, follow=True)

    assert not FollowUp.objects.exists()
    assert "alert-danger" in response.content.decode()


def _nav_badge(html: str) -> str | None:
    marker = 'data-testid="follow-ups-due"'
    if marker not in html:
        return None
    return html[html.index(marker):].split(">", 1)[1].split("<", 1)[0]


def test_the_nav_bar_counts_my_follow_ups_due_today_or_overdue(client, sales_user):
    contact, today = ContactFactory(), timezone.localdate()
    for days in (-3, 0):
        follow_up_add(contact=contact, assigned_to=sales_user, title="Due",
                      due_on=today + dt.timedelta(days=days))
    follow_up_add(contact=contact, assigned_to=sales_user, title="Later today",
                  due_on=today, due_time=dt.time(23, 59))
    follow_up_add(contact=contact, assigned_to=sales_user, title="Tomorrow",
                  due_on=today + dt.timedelta(days=1))
    done = follow_up_add(contact=contact, assigned_to=sales_user, title="Done",
                         due_on=today)
    followups.follow_up_set_done(follow_up=done, done=True)
    follow_up_add(contact=contact, assigned_to=SalesStaffFactory(username="b"),
                  title="Not mine", due_on=today)
    client.force_login(sales_user)

    assert _nav_badge(client.get(reverse("dashboard:my_follow_ups")).content.decode()) == "3"


def test_no_badge_when_nothing_is_due(client, sales_user):
    follow_up_add(contact=ContactFactory(), assigned_to=sales_user, title="Tomorrow",
                  due_on=timezone.localdate() + dt.timedelta(days=1))
    client.force_login(sales_user)

    assert _nav_badge(client.get(reverse("dashboard:my_follow_ups")).content.decode()) is None


def test_the_nav_count_is_one_query(rf, sales_user, django_assert_num_queries):
    from dashboard.context_processors import follow_ups_due

    request = rf.get("/")
    request.user = sales_user
    sales_user.has_perm("customers.view_followup")  # the nav's perms are read anyway

    with django_assert_num_queries(1):
        context = follow_ups_due(request)
        assert str(context["follow_ups_due"]) == "0" and not context["follow_ups_due"]


def test_an_overdue_follow_up_is_red_on_the_contact_page_with_its_time(client, sales_user):
    contact, today = ContactFactory(), timezone.localdate()
    follow_up_add(contact=contact, assigned_to=sales_user, title="Past its time",
                  due_on=today, due_time=dt.time(0, 0))
    follow_up_add(contact=contact, assigned_to=sales_user, title="Yesterday's",
                  due_on=today - dt.timedelta(days=1))
    follow_up_add(contact=contact, assigned_to=sales_user, title="Tomorrow's",
                  due_on=today + dt.timedelta(days=1), due_time=dt.time(9, 15))
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()

    def line(title: str) -> str:
        start = html.index(title)
        return html[start:html.index("</li>", start)]

    assert 'text-danger" data-overdue="1"' in line("Past its time")
    assert "today at 00:00" in line("Past its time")
    assert 'data-overdue="1"' in line("Yesterday&#x27;s")
    assert "data-overdue" not in line("Tomorrow&#x27;s") and "at 09:15" in line("Tomorrow&#x27;s")


def test_a_follow_up_is_rescheduled_and_reassigned_from_its_page_and_reminded_again(
        client, sales_user):
    task = follow_up_add(contact=ContactFactory(), assigned_to=sales_user, title="Call",
                         due_on=timezone.localdate(), due_time=dt.time(9, 0))
    FollowUp.objects.filter(pk=task.pk).update(reminded_at=timezone.now())
    colleague = SalesStaffFactory(username="colleague", first_name="Cem")
    client.force_login(sales_user)
    url = reverse("dashboard:follow_up_edit", args=[task.pk])
    later = timezone.localdate() + dt.timedelta(days=3)

    page = client.get(url).content.decode()
    response = client.post(url, {"title": "Call about coats", "due_on": later.isoformat(),
                                 "due_time": "16:45", "assigned_to": colleague.pk})

    task.refresh_from_db()
    assert 'value="09:00"' in page
    assert response["Location"] == reverse("dashboard:contact_detail", args=[task.contact_id])
    assert (task.title, task.due_on, task.due_time, task.assigned_to) == (
        "Call about coats", later, dt.time(16, 45), colleague)
    assert task.reminded_at is None  # the reminder job sends it again at the new time


def test_only_the_assignee_or_a_manager_changes_a_follow_up(client, sales_user, manager):
    task = follow_up_add(contact=ContactFactory(), assigned_to=sales_user, title="Mine",
                         due_on=timezone.localdate())
    url = reverse("dashboard:follow_up_edit", args=[task.pk])
    client.force_login(SalesStaffFactory(username="other"))
    refused = client.get(url)
    client.force_login(manager)

    assert refused.status_code == 403
    assert client.get(url).status_code == 200
