"""The contact page's timeline: everything that happened with the person, newest first."""
import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from activity.models import WebsiteEvent
from campaigns.tests.factories import MessageFactory
from customers.models import Note
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
    assert _kinds(html) == ["website", "note", "email", "purchase"]
    assert "Blue teapot" in html and "Called, will order soon" in html


def test_only_the_newest_are_kept():
    now = timezone.now()
    notes = [Note(body=str(n), created_at=now - dt.timedelta(minutes=n)) for n in range(20)]

    timeline = contact_timeline({"notes": notes}, limit=3)

    assert [entry.item.body for entry in timeline] == ["0", "1", "2"]


def test_a_contact_with_no_history_says_so(sales_client):
    contact = ContactFactory()

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert "Nothing has happened with this contact yet." in response.content.decode()
