"""The contact page's "Website activity": latest 50, kind label, name, shop-local time."""
import datetime as dt

import pytest
from django.urls import reverse

from activity.models import WebsiteEvent
from activity.tests.factories import WebsiteEventFactory
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _page(client, contact) -> str:
    return client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()


def test_events_show_with_label_name_and_shop_time(sales_client, settings):
    settings.TIME_ZONE = "Europe/Istanbul"
    contact = ContactFactory()
    WebsiteEventFactory(contact=contact, kind="abandoned_cart", name="Blue mug, Red plate",
                        occurred_at=dt.datetime(2026, 11, 20, 21, 30, tzinfo=dt.timezone.utc))

    html = _page(sales_client, contact)

    section = html[html.index('data-testid="website-events"'):]
    assert "Abandoned a cart" in section
    assert "Blue mug, Red plate" in section
    assert "11/21/2026 00:30" in section  # 21:30 UTC is 00:30 the next day in Istanbul


def test_only_the_latest_50_newest_first(sales_client):
    contact = ContactFactory()
    base = dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.timezone.utc)
    for minute in range(55):
        WebsiteEventFactory(contact=contact, name=f"item-{minute:02d}",
                            occurred_at=base + dt.timedelta(minutes=minute))
    WebsiteEventFactory(name="someone else's")

    response = sales_client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    names = [event.name for event in response.context["website_events"]]
    assert names == [f"item-{minute:02d}" for minute in range(54, 4, -1)]
    assert "The latest 50 are shown." in response.content.decode()
    assert "someone else" not in response.content.decode()


def test_no_events_says_so(sales_client):
    assert "No website activity recorded." in _page(sales_client, ContactFactory())


def test_staff_without_the_permission_do_not_see_the_section(client, sales_user):
    from django.contrib.auth.models import Permission

    sales_user.groups.first().permissions.remove(
        Permission.objects.get(codename="view_websiteevent"))
    client.force_login(sales_user)
    contact = ContactFactory()
    WebsiteEventFactory(contact=contact)

    response = client.get(reverse("dashboard:contact_detail", args=[contact.pk]))

    assert response.status_code == 200
    assert "website_events" not in response.context
    assert WebsiteEvent.objects.count() == 1
