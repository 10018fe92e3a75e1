"""Stage changes from the CSV import's merge, and erasure removing the person's deliveries."""
import pytest

from customers.imports.purchases import purchases_import_rows
from customers.models import Contact
from customers.tests.factories import ContactFactory, record_purchase
from privacy.services import contact_erase
from webhooks.models import EventType, WebhookDelivery
from webhooks.services import event_emit

from .factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _row(email: str, external_id: str, when: str = "2026-03-02T10:00:00+00:00") -> dict:
    return {"email": email, "purchased_at": when, "amount": "10.00", "currency": "USD",
            "external_id": external_id}


def test_an_import_emits_stage_changes_of_existing_contacts():
    buyer = ContactFactory(email="buyer@example.com")
    record_purchase(buyer, days_ago=30)
    unchanged = ContactFactory(email="same@example.com")
    record_purchase(unchanged, days_ago=30)
    record_purchase(unchanged, days_ago=20)
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])

    purchases_import_rows(rows=[_row("buyer@example.com", "A1"), _row("same@example.com", "A2")],
                          source="shop")

    changes = {(d.contact_id, d.payload["data"]["old_stage"], d.payload["data"]["new_stage"])
               for d in WebhookDelivery.objects.filter(event_type=EventType.STAGE_CHANGED)
               if d.contact_id in (buyer.pk, unchanged.pk)}
    assert changes == {(buyer.pk, "one_time", "repeat")}


def test_a_dry_run_import_leaves_no_delivery():
    ContactFactory(email="buyer@example.com")
    WebhookEndpointFactory(events=[EventType.STAGE_CHANGED])

    purchases_import_rows(rows=[_row("buyer@example.com", "A1")], source="shop", dry_run=True)

    assert WebhookDelivery.objects.count() == 0


def test_erasure_deletes_the_persons_deliveries_only(manager):
    WebhookEndpointFactory(events=[EventType.AT_RISK])
    person, other = ContactFactory(email="gone@example.com"), ContactFactory()
    event_emit(EventType.AT_RISK, [(c.pk, {"contact_id": c.pk, "email": c.email})
                                   for c in (person, other)])

    result = contact_erase(person, by=manager)

    assert result.counts["webhook_deliveries_deleted"] == 1
    assert list(WebhookDelivery.objects.values_list("contact_id", flat=True)) == [other.pk]
    assert not WebhookDelivery.objects.filter(payload__data__email="gone@example.com").exists()
    assert Contact.objects.get(pk=person.pk).email != "gone@example.com"
