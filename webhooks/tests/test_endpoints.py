"""Endpoints: https only (http where allowed), a strong secret, known events; the admin."""
import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create

from .factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def test_an_endpoint_gets_its_own_long_secret():
    first = endpoint_create(name="Shop", url="https://shop.example.com/hook",
                            events=[EventType.AT_RISK])
    second = endpoint_create(name="ERP", url="https://erp.example.com/hook",
                             events=[EventType.COUPON_REDEEMED])

    assert len(first.secret) >= 43 and first.secret != second.secret


def test_http_is_rejected_unless_allowed(settings):
    settings.WEBHOOKS_ALLOW_HTTP = False

    with pytest.raises(ValidationError) as error:
        endpoint_create(name="Shop", url="http://shop.example.com/hook",
                        events=[EventType.AT_RISK])

    assert error.value.error_dict["url"][0].code == "https_required"
    assert WebhookEndpoint.objects.count() == 0


def test_http_is_accepted_where_allowed(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True

    endpoint = endpoint_create(name="Dev", url="http://127.0.0.1:9000/hook",
                               events=[EventType.AT_RISK])

    assert endpoint.url == "http://127.0.0.1:9000/hook"


@pytest.mark.parametrize("events", [[], ["contact.deleted"], "contact.at_risk"])
def test_unknown_or_no_events_are_rejected(events):
    with pytest.raises(ValidationError) as error:
        endpoint_create(name="Shop", url="https://shop.example.com/hook", events=events)

    assert error.value.error_dict["events"][0].code in {"invalid_events", "blank"}
    assert WebhookEndpoint.objects.count() == 0


# --- Admin ------------------------------------------------------------------------------------

@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


def test_managers_add_an_endpoint_and_then_see_its_secret(manager_client, settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    add = reverse("admin:webhooks_webhookendpoint_add")

    refused = manager_client.post(add, {"name": "Shop", "url": "http://shop.example.com/h",
                                        "events": [EventType.AT_RISK], "is_active": "on"})
    assert refused.status_code == 200 and WebhookEndpoint.objects.count() == 0

    manager_client.post(add, {"name": "Shop", "url": "https://shop.example.com/h",
                              "events": [EventType.AT_RISK, EventType.COUPON_REDEEMED],
                              "is_active": "on"})
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.events == [EventType.AT_RISK, EventType.COUPON_REDEEMED]
    page = manager_client.get(reverse("admin:webhooks_webhookendpoint_change",
                                      args=[endpoint.pk]))
    assert endpoint.secret in page.content.decode()


def test_the_test_event_action_sends_to_the_receiver(
        manager_client, receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url, events=[EventType.AT_RISK])

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(reverse("admin:webhooks_webhookendpoint_changelist"), {
            "action": "send_test_event", "_selected_action": [endpoint.pk]})

    [request] = receiver.requests
    assert request.headers["x-crm-event"] == "webhook.test"
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.contact_id) == (WebhookDelivery.Status.DELIVERED, None)


def test_the_retry_action_and_the_status_filter(
        manager_client, receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    failed = WebhookDelivery.objects.create(endpoint=endpoint, event_type="contact.at_risk",
                                            contact_id=3, payload={"n": 1}, attempts=8,
                                            status=WebhookDelivery.Status.FAILED)
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")

    listed = manager_client.get(changelist, {"status__exact": "failed"})
    assert list(listed.context["cl"].result_list) == [failed]
    for text in ("not-a-uuid", str(failed.event_id), "3"):  # the search takes ids and contacts
        assert manager_client.get(changelist, {"q": text}).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        manager_client.post(changelist, {"action": "retry_now",
                                         "_selected_action": [failed.pk]})

    assert len(receiver.requests) == 1
    failed.refresh_from_db()
    assert (failed.status, failed.attempts) == (WebhookDelivery.Status.DELIVERED, 9)


def test_sales_staff_see_no_webhooks(client, sales_user):
    sales_user.is_staff = True
    sales_user.save()
    client.force_login(sales_user)
    endpoint = WebhookEndpointFactory()

    for url in (reverse("admin:webhooks_webhookendpoint_changelist"),
                reverse("admin:webhooks_webhookendpoint_change", args=[endpoint.pk]),
                reverse("admin:webhooks_webhookdelivery_changelist")):
        assert client.get(url).status_code == 302  # to the admin login: not a manager

    assert not sales_user.has_perm("webhooks.view_webhookendpoint")


def test_the_delivery_list_costs_the_same_for_one_row_or_many(manager_client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    endpoint = WebhookEndpointFactory()
    changelist = reverse("admin:webhooks_webhookdelivery_changelist")

    def queries(rows: int) -> int:
        for _ in range(rows):
            WebhookDelivery.objects.create(endpoint=endpoint, event_type="contact.at_risk",
                                           contact_id=1, payload={})
        with CaptureQueriesContext(connection) as captured:
            assert manager_client.get(changelist).status_code == 200
        return len(captured)

    assert queries(1) == queries(5)
