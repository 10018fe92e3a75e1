"""Sending to a real receiver on 127.0.0.1: signed, retried with backoff, at most once per
success, given up after WEBHOOKS_MAX_ATTEMPTS."""
import datetime as dt
import json
import socket
import time

import pytest
from django.utils import timezone

from webhooks.models import EventType, WebhookDelivery
from webhooks.services import deliveries_retry_now, event_emit
from webhooks.signing import verify_signature
from webhooks.tasks import deliver_task, send_due_task
from webhooks.transport import backoff_seconds

from .factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status
DATA = {"contact_id": 7, "email": "ayse@example.com", "stage": "repeat"}


def _emit(capture) -> WebhookDelivery:
    """One contact.at_risk event, its task run on commit (eagerly, as in production later)."""
    with capture(execute=True):
        event_emit(EventType.AT_RISK, [(7, DATA)])
    return WebhookDelivery.objects.get()


def _make_due(delivery: WebhookDelivery) -> None:
    """Time passes: the retry's moment has come (and the sweep's grace too)."""
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - dt.timedelta(minutes=5))


def test_a_delivery_is_posted_signed_and_marked_delivered(
        receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)

    delivery = _emit(django_capture_on_commit_callbacks)

    [request] = receiver.requests
    headers = request.headers
    assert verify_signature(endpoint.secret, headers["x-crm-signature"], request.body, 300)
    assert headers["x-crm-event"] == "contact.at_risk"
    assert headers["x-crm-delivery"] == str(delivery.event_id)
    assert headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body == {"id": str(delivery.event_id), "type": "contact.at_risk",
                    "created_at": delivery.created_at.isoformat(), "data": DATA}
    assert (delivery.status, delivery.attempts, delivery.last_status_code,
            delivery.last_error) == (Status.DELIVERED, 1, 200, "")
    assert delivery.delivered_at is not None


def test_the_signature_fails_with_a_wrong_secret_a_tampered_body_or_later(
        receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    _emit(django_capture_on_commit_callbacks)
    [request] = receiver.requests
    header = request.headers["x-crm-signature"]

    assert verify_signature(endpoint.secret, header, request.body, 300)
    assert not verify_signature(endpoint.secret + "x", header, request.body, 300)
    assert not verify_signature(endpoint.secret, header, request.body + b" ", 300)
    assert not verify_signature(endpoint.secret, header, request.body, 300,
                                now=time.time() + 301)


def test_a_500_is_retried_after_the_backoff_and_delivered_on_the_retry(
        receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    receiver.answer(500)
    before = timezone.now()

    delivery = _emit(django_capture_on_commit_callbacks)
    after = timezone.now()

    assert (delivery.status, delivery.attempts, delivery.last_status_code,
            delivery.last_error) == (Status.PENDING, 1, 500, "HTTP 500")
    # 30 s * 2^1, ±10 % jitter; the task re-queued itself, but early it does nothing.
    assert before + dt.timedelta(seconds=54) <= delivery.next_attempt_at
    assert delivery.next_attempt_at <= after + dt.timedelta(seconds=66)
    assert len(receiver.requests) == 1

    _make_due(delivery)
    send_due_task()

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.DELIVERED, 2, 200)
    first, second = receiver.requests
    assert first.body == second.body
    assert first.headers["x-crm-delivery"] == second.headers["x-crm-delivery"]
    assert verify_signature(endpoint.secret, second.headers["x-crm-signature"], second.body, 300)


def test_the_backoff_doubles_from_30_seconds_up_to_the_cap_with_jitter():
    middle = [backoff_seconds(n, base=30, cap=3600, rand=0.5) for n in range(1, 9)]

    assert middle == [60, 120, 240, 480, 960, 1920, 3600, 3600]
    assert backoff_seconds(1, base=30, cap=3600, rand=0.0) == pytest.approx(54)
    assert backoff_seconds(1, base=30, cap=3600, rand=0.999999) == pytest.approx(66, abs=1e-3)


def test_it_fails_after_the_maximum_number_of_attempts(
        receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_MAX_ATTEMPTS = 3
    WebhookEndpointFactory(url=receiver.url)
    receiver.answer(500, 502, 503, 200)

    delivery = _emit(django_capture_on_commit_callbacks)
    for _retry in range(4):
        _make_due(delivery)
        deliver_task(delivery.pk)

    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.last_status_code,
            delivery.last_error) == (Status.FAILED, 3, 503, "HTTP 503")
    assert delivery.delivered_at is None
    assert len(receiver.requests) == 3


def test_a_duplicate_task_does_not_post_twice(receiver, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(url=receiver.url)
    delivery = _emit(django_capture_on_commit_callbacks)

    deliver_task(delivery.pk)
    _make_due(delivery)  # even when the row looks due, delivered is final
    deliver_task(delivery.pk)
    send_due_task()

    assert len(receiver.requests) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.DELIVERED, 1)


def test_a_delivery_in_flight_is_not_taken_by_a_second_task(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    delivery = WebhookDelivery.objects.create(endpoint=endpoint, event_type="contact.at_risk",
                                              contact_id=7, payload={"data": DATA})
    # Claimed by a worker that is still waiting for the receiver: next_attempt_at is leased.
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() + dt.timedelta(seconds=50))

    deliver_task(delivery.pk)

    assert receiver.requests == []


def test_a_redirect_is_not_followed(receiver, second_receiver, django_capture_on_commit_callbacks):
    WebhookEndpointFactory(url=receiver.url)
    receiver.answer(307, headers={"Location": second_receiver.url})

    delivery = _emit(django_capture_on_commit_callbacks)

    assert second_receiver.requests == []
    assert (delivery.status, delivery.attempts, delivery.last_status_code,
            delivery.last_error) == (Status.PENDING, 1, 307,
                                     "HTTP 307: redirect to 127.0.0.1 not followed")


def test_a_slow_receiver_times_out_and_is_retried(
        receiver, settings, django_capture_on_commit_callbacks):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 0.3
    WebhookEndpointFactory(url=receiver.url)
    receiver.answer(200, delay=1.5)

    delivery = _emit(django_capture_on_commit_callbacks)

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.PENDING, 1, None)
    assert "timed out" in delivery.last_error


def test_a_refused_connection_is_a_failed_attempt(django_capture_on_commit_callbacks):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    WebhookEndpointFactory(url=f"http://127.0.0.1:{port}/hook")

    delivery = _emit(django_capture_on_commit_callbacks)

    assert (delivery.status, delivery.attempts, delivery.last_status_code) == (
        Status.PENDING, 1, None)
    assert "ConnectionRefusedError" in delivery.last_error


def test_an_inactive_endpoints_pending_deliveries_wait(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url, is_active=False)
    delivery = WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="contact.at_risk", contact_id=7, payload={"data": DATA},
        next_attempt_at=timezone.now() - dt.timedelta(minutes=5))

    deliver_task(delivery.pk)
    send_due_task()

    assert receiver.requests == []
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == (Status.PENDING, 0)


def test_the_sweep_leaves_rows_that_just_fell_due_to_their_own_task(receiver):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    WebhookDelivery.objects.create(endpoint=endpoint, event_type="contact.at_risk",
                                   contact_id=7, payload={"data": DATA})

    send_due_task()

    assert receiver.requests == []


def test_retry_now_sends_failed_and_pending_ones_never_delivered_ones(
        receiver, django_capture_on_commit_callbacks):
    endpoint = WebhookEndpointFactory(url=receiver.url)
    rows = {status: WebhookDelivery.objects.create(
        endpoint=endpoint, event_type="contact.at_risk", contact_id=7, status=status,
        attempts=8 if status == Status.FAILED else 1, payload={"data": {"status": status}},
        next_attempt_at=timezone.now() + dt.timedelta(hours=1)) for status in Status.values}

    with django_capture_on_commit_callbacks(execute=True):
        count = deliveries_retry_now([row.pk for row in rows.values()])

    assert count == 2
    assert sorted(json.loads(r.body)["data"]["status"] for r in receiver.requests) == [
        "failed", "pending"]
    assert set(WebhookDelivery.objects.values_list("status", flat=True)) == {Status.DELIVERED}
