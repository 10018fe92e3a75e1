"""What webhooks/ holds about a person, for export and erasure (see crm/personal_data.py)."""
from crm.personal_data import Delete, Section

from .models import WebhookDelivery

SECTIONS = (
    Section(
        # The payloads are copies of the contact's own fields (address included), so the
        # export names the events and who received them (GDPR art. 15(1)(c)), and erasure
        # deletes the rows, sent or not.
        name="webhook_deliveries", model=WebhookDelivery, by="contact_id",
        order_by=("created_at", "id"),
        columns=(("id", "id"), ("event_type", "event_type"), ("recipient", "endpoint__name"),
                 ("status", "status"), ("created_at", "created_at"),
                 ("delivered_at", "delivered_at")),
        erase=Delete(),
    ),
)
