"""The contact page's timeline: everything that happened with the person, newest first."""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import WebsiteEvent
from campaigns.tests.factories import MessageFactory
from customers.models import CallLog, Note
from customers.tests.factories import ContactFactory, record_purchase
from dashboard.timeline import contact_timeline

pytestmark = pytest.mark.django_db


def _kinds(html: str) -> list[str]:
    timeline = html.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    return re.findall(r'data-kind="(\w+)"', timeline)


def test_the_timeline_mixes_every_kind_newest_first(sales_client, sales_user):
    now = timezone.now()
    contact = ContactFactory()
    record_purchase(contact, days_ago=10, amount="12.50")
    MessageFactory(contact=contact, status="sent", sent_at=now - dt.timedelta(days=5))
    MessageFactory(contact=contact, status="held_out")  # never emailed: not on the timeline
    Note.objects.create(contact=contact, author=sales_user, body="Called, will order soon",
                        created_at=now - dt.timedelta(days=2))
    WebsiteEvent.objects.create(contact=contact, kind="abandoned_cart", name="Blue teapot",
                                occurred_at=now - dt.timedelta(hours=1), source="shop")

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    html = response.content.decode()
    # The purchase is in the purchase table only, not a second time on the timeline.
    assert _kinds(html) == ["website", "note", "email"]
    assert "Blue teapot" in html and "Called, will order soon" in html
    assert html.count("$12.50") == 2  # the total spent and the purchase table


def test_only_the_newest_are_kept():
    now = timezone.now()
    notes = [Note(body=str(n), created_at=now - dt.timedelta(minutes=n)) for n in range(20)]

    timeline = contact_timeline({"notes": notes}, limit=3)

    assert [entry.item.body for entry in timeline] == ["0", "1", "2"]


def test_a_contact_with_no_history_says_so(sales_client):
    contact = ContactFactory()

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert "Nothing has happened with this contact yet." in response.content.decode()


def _older_link(html: str) -> str | None:
    found = re.search(r'href="([^"]+)" data-testid="timeline-more"', html)
    return found and found.group(1).replace("&amp;", "&")


def test_older_entries_are_a_page_away_each_once_in_order(sales_client, sales_user,
                                                         django_assert_max_num_queries):
    now = timezone.now()
    contact = ContactFactory()
    # Forty notes, ten of them at the very same moment (an import), and calls between them.
    same = now - dt.timedelta(days=3)
    notes = [Note.objects.create(contact=contact, author=sales_user, body=f"note {n}",
                                 created_at=same if n < 10 else now - dt.timedelta(hours=n))
             for n in range(40)]
    calls = [CallLog.objects.create(contact=contact, user=sales_user, outcome="no_answer",
                                    note=f"call {n}", called_at=same if n < 3
                                    else now - dt.timedelta(hours=n, minutes=30))
             for n in range(12)]
    expected = sorted([("note", note.pk, note.created_at) for note in notes]
                      + [("call", call.pk, call.called_at) for call in calls],
                      key=lambda row: (row[2], row[0], row[1]), reverse=True)

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))
    html = response.content.decode()
    seen = [(entry.kind, entry.item.pk) for entry in response.context["timeline"]]
    assert len(seen) == 15
    pages = 1
    while link := _older_link(html):
        with django_assert_max_num_queries(15):  # one per kind, whatever the history length
            response = sales_client.get(link)
        assert response.status_code == 200
        html = response.content.decode()
        seen += [(entry.kind, entry.item.pk) for entry in response.context["timeline"]]
        pages += 1
        assert pages < 10

    assert seen == [(kind, pk) for kind, pk, _ in expected]
    assert pages == 4  # 15 + 15 + 15 + 7
    assert "Back to the contact" in html


def test_a_contact_with_a_short_history_has_no_older_link(sales_client, sales_user):
    contact = ContactFactory()
    Note.objects.create(contact=contact, author=sales_user, body="hello")

    html = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()

    assert _older_link(html) is None


@pytest.mark.parametrize("before", ["", "yesterday", "2026-01-01T00:00:00~nothing~1", "a~b"])
def test_a_timeline_page_with_no_or_a_bad_cursor_starts_at_the_newest(sales_client, sales_user,
                                                                      before):
    contact = ContactFactory()
    Note.objects.create(contact=contact, author=sales_user, body="the newest")

    response = sales_client.get(reverse("dashboard:contact_timeline", args=[contact.pk]),
                                {"before": before})

    assert response.status_code == 200
    assert "the newest" in response.content.decode()


def test_the_timeline_page_shows_only_what_the_user_may_see(client, sales_user):
    from accounts.tests.factories import SalesStaffFactory
    from django.contrib.auth.models import Permission

    contact = ContactFactory()
    MessageFactory(contact=contact, status="sent", sent_at=timezone.now())
    reader = SalesStaffFactory(username="reader")
    reader.user_permissions.clear()
    reader.groups.clear()
    reader.user_permissions.add(Permission.objects.get(codename="view_contact"))
    client.force_login(reader)

    response = client.get(reverse("dashboard:contact_timeline", args=[contact.pk]))

    assert response.status_code == 200
    assert response.context["timeline"] == []


def test_survey_answers_beyond_the_five_the_page_loads_are_on_the_next_page(sales_client,
                                                                           sales_user):
    from feedback.models import SurveyResponse
    from feedback.tests.factories import SurveyInviteFactory

    now = timezone.now()
    contact = ContactFactory()
    answers = []
    for hour in range(8):  # the contact page loads the 5 latest answers
        invite = SurveyInviteFactory(contact=contact)
        answers.append(SurveyResponse.objects.create(
            invite=invite, contact=contact, score=hour, created_at=now - dt.timedelta(hours=hour)))
    for day in range(20):  # older than every answer
        Note.objects.create(contact=contact, author=sales_user, body=f"note {day}",
                            created_at=now - dt.timedelta(days=day + 1))

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))
    seen = [(entry.kind, entry.item.pk) for entry in response.context["timeline"]]
    link = _older_link(response.content.decode())
    while link:
        response = sales_client.get(link)
        seen += [(entry.kind, entry.item.pk) for entry in response.context["timeline"]]
        link = _older_link(response.content.decode())

    assert [pk for kind, pk in seen if kind == "survey"] == [answer.pk for answer in answers]
    assert len(seen) == 28


def test_a_click_in_an_email_is_on_the_timeline(sales_client):
    from campaigns.models import LinkClick

    now = timezone.now()
    contact = ContactFactory()
    message = MessageFactory(contact=contact, status="sent", sent_at=now - dt.timedelta(days=1))
    LinkClick.objects.create(message=message, contact=contact, url="https://shop.example.com/"
                             "<script>alert(1)</script>", url_hash="x",
                             clicked_at=now - dt.timedelta(hours=3))

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    html = response.content.decode()
    assert _kinds(html) == ["click", "email"]
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
