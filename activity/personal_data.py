"""What activity/ holds about a person, for export and erasure (see crm/personal_data.py)."""
from crm.personal_data import Delete, Section

from .models import WebsiteEvent

SECTIONS = (
    Section(
        name="website_events", model=WebsiteEvent, by="contact",
        order_by=("occurred_at", "id"),
        columns=(("id", "id"), ("kind", "kind"), ("name", "name"),
                 ("properties", "properties"), ("occurred_at", "occurred_at"),
                 ("source", "source"), ("external_id", "external_id")),
        # What they looked at and searched for on the shop's site is about them: all of it.
        erase=Delete(),
    ),
)
