"""A contact's history in one list, newest first: purchases, emails, notes, calls, cases, survey
answers, website actions and consent changes, as the people who call them want to read it.

Built from what the contact page loads for its sections anyway (no query of its own), so it
shows only what the viewer may see: a section the user has no permission for is not in the
context, and so not in the timeline either.
"""
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

TIMELINE_LENGTH = 15
KIND_LABELS = {
    "purchase": _("Purchase"),
    "email": _("Email"),
    "note": _("Note"),
    "call": _("Call"),
    "case": _("Support case"),
    "survey": _("Survey answer"),
    "website": _("Website"),
    "consent": _("Consent"),
}


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    item: object

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


def _entries(kind: str, items: Iterable | None, moment: str) -> list[TimelineEntry]:
    return [TimelineEntry(getattr(item, moment), kind, item) for item in items or ()
            if getattr(item, moment) is not None]


def contact_timeline(context: Mapping, *, limit: int = TIMELINE_LENGTH) -> list[TimelineEntry]:
    """The newest `limit` things that happened, from the contact page's context."""
    feedback = context.get("contact_feedback") or {}
    entries = [
        *_entries("purchase", context.get("purchases"), "purchased_at"),
        *_entries("email", context.get("emails"), "sent_at"),  # sent ones only
        *_entries("note", context.get("notes"), "created_at"),
        *_entries("call", context.get("calls"), "called_at"),
        # A case typed into the public form with this address is not the contact's own words
        # until they confirm it (support: Case.verified); the cases section shows it, flagged.
        *_entries("case", [case for case in context.get("contact_cases") or ()
                           if getattr(case, "verified", True)], "created_at"),
        *_entries("survey", feedback.get("responses"), "created_at"),
        *_entries("website", context.get("website_events"), "occurred_at"),
        *_entries("consent", context.get("consent_history"), "occurred_at"),
    ]
    return sorted(entries, key=lambda entry: entry.at, reverse=True)[:limit]
