"""Concurrent retries of one website event (and of one batch) record it once (PostgreSQL)."""

import pytest
from rest_framework.test import APIClient

from activity.models import WebsiteEvent
from api.tests.helpers import token_client
from crm.tests.concurrency import at_once
from customers.models import Contact

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8


def _event(external_id: str, email: str = "ann@example.com") -> dict:
    from django.utils import timezone

    return {"email": email, "kind": "abandoned_cart",
            "occurred_at": timezone.now().isoformat(), "source": "shop",
            "external_id": external_id}


def _post_in_threads(user, payload) -> tuple[list[int], list[BaseException]]:
    """The payload, or a list of payloads: one per thread."""
    payloads = payload if isinstance(payload, tuple) else (payload,) * THREADS
    clients = [APIClient() for _ in range(THREADS)]
    for client in clients:
        client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
    return at_once(lambda index: clients[index].post("/api/events/", payloads[index],
                                                     format="json").status_code,
                   threads=THREADS)


def test_concurrent_retries_record_one_event_and_one_contact(manager):
    token_client(manager)  # creates the token once, before the threads start

    statuses, errors = _post_in_threads(manager, _event("cart-42"))

    assert errors == []
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert WebsiteEvent.objects.count() == 1
    assert Contact.objects.count() == 1


def test_concurrent_retries_of_a_batch_record_each_event_once(manager):
    token_client(manager)
    batch = [_event(f"e-{index}") for index in range(20)]

    statuses, errors = _post_in_threads(manager, batch)

    assert errors == []
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert WebsiteEvent.objects.count() == 20
    assert Contact.objects.count() == 1


def test_the_same_events_in_different_orders_do_not_deadlock(manager):
    token_client(manager)
    events = [_event(f"e-{index}", email=f"buyer{index % 5}@example.com") for index in range(30)]
    batches = tuple(events[shift:] + events[:shift] if thread % 2 else
                    list(reversed(events[shift:] + events[:shift]))
                    for thread, shift in enumerate(range(0, 30, 4)))

    statuses, errors = _post_in_threads(manager, batches)

    assert errors == []
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert WebsiteEvent.objects.count() == 30
    assert Contact.objects.count() == 5
