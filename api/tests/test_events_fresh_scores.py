"""Website events are attributes of the covariate model (#18): a batch through the API
re-scores the contacts it gave new events within minutes, in one task per 1,000 contacts."""
import datetime as dt

import pytest
from django.utils import timezone

from customers import tasks
from customers.tests.factories import ContactFactory, record_purchase

pytestmark = pytest.mark.django_db


@pytest.fixture
def refresh_tasks(monkeypatch) -> list[list[int]]:
    queued: list[list[int]] = []
    monkeypatch.setattr(tasks.refresh_scores_task, "delay",
                        lambda contact_ids: queued.append(sorted(contact_ids)))
    return queued


def test_an_api_batch_of_website_events_rescores_its_contacts_once(
        refresh_tasks, manager_api, django_capture_on_commit_callbacks):
    buyers = [ContactFactory(email=f"fresh{number}@example.com") for number in range(3)]
    for contact in buyers:
        record_purchase(contact, days_ago=20, amount="30.00")
    refresh_tasks.clear()  # the purchases' own re-scores
    batch = [{"email": contact.email, "kind": "viewed_product", "name": "Mug", "source": "shop",
              "external_id": f"v-{contact.pk}",
              "occurred_at": (timezone.now() - dt.timedelta(hours=1)).isoformat()}
             for contact in buyers]

    with django_capture_on_commit_callbacks(execute=True):
        assert manager_api.post("/api/events/", batch, format="json").status_code == 201
    with django_capture_on_commit_callbacks(execute=True):  # the shop sends it again
        assert manager_api.post("/api/events/", batch, format="json").status_code == 200

    assert refresh_tasks == [sorted(contact.pk for contact in buyers)]
