"""Concurrent retries of one order through the API record it once (PostgreSQL row locks)."""

import pytest
from rest_framework.test import APIClient

from api.tests.helpers import token_client
from crm.tests.concurrency import at_once
from customers.models import Contact, Purchase

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

THREADS = 8
ORDER = {"email": "ann@example.com", "purchased_at": "2024-05-31T14:30:00+03:00",
         "amount": "30.00", "currency": "USD", "source": "shop", "external_id": "order-42"}


def _post_in_threads(user, payload: dict) -> tuple[list[int], list[BaseException]]:
    clients = {index: _client_for(user) for index in range(THREADS)}
    return at_once(lambda index: clients[index].post("/api/purchases/", payload,
                                                     format="json").status_code,
                   threads=THREADS)


def _client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {user.auth_token.key}")
    return client


def test_concurrent_retries_for_a_new_contact_record_one_purchase(sales_user):
    token_client(sales_user)  # creates the token once, before the threads start

    statuses, errors = _post_in_threads(sales_user, ORDER)

    assert errors == []
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert Contact.objects.count() == 1
    assert Purchase.objects.count() == 1
    assert Contact.objects.get().purchase_count == 1


def test_concurrent_retries_for_a_known_contact_record_one_purchase(sales_user):
    token_client(sales_user)
    contact = Contact.objects.create(email="bob@example.com")
    payload = {key: value for key, value in ORDER.items() if key != "email"}

    statuses, errors = _post_in_threads(sales_user, {**payload, "contact": contact.pk})

    assert errors == []
    assert sorted(statuses) == [200] * (THREADS - 1) + [201]
    assert Purchase.objects.filter(contact=contact).count() == 1
