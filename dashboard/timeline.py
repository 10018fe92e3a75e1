"""A contact's history in one list, newest first: emails, clicks, notes, calls, cases, survey
answers, website actions and consent changes, as the people who call them want to read it.

Purchases are not on it: the contact page's purchase table lists every one of them with what
the timeline's one line could not hold (items, code, refund, an amount waiting for its rate),
and a second copy of each purchase among the calls and emails only pushed the conversations
off the first screen.

On the contact page it is built from what the page loads for its sections anyway (no query of
its own), so it shows only what the viewer may see: a section the user has no permission for
is not in the context, and so not in the timeline either. Older entries are a page of their
own (`timeline_page`, /contacts/<id>/timeline/?before=<cursor>), a keyset page: each kind read
on its index, below the last entry shown.
"""
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from activity.models import WebsiteEvent
from campaigns.models import LinkClick, Message
from customers.consent.models import ConsentRecord
from customers.models import Contact
from feedback.models import SurveyResponse
from support.models import Case

TIMELINE_LENGTH = 15
KIND_LABELS = {
    "purchase": _("Purchase"),
    "email": _("Email"),
    "click": _("Clicked"),
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

    @property
    def cursor(self) -> str:
        """Where the next page starts: this entry's moment, kind and id (ties broken by them)."""
        return f"{self.at.astimezone(dt.UTC).isoformat()}~{self.kind}~{self.item.pk or 0}"


def _order(entry: TimelineEntry) -> tuple:
    return (entry.at, entry.kind, entry.item.pk or 0)


def _entries(kind: str, items: Iterable | None, moment: str) -> list[TimelineEntry]:
    return [TimelineEntry(getattr(item, moment), kind, item) for item in items or ()
            if getattr(item, moment) is not None]


# Kinds the contact page's sections load fewer of than the timeline shows (feedback.selectors.
# contact_feedback: the 5 latest survey answers): when all of them are loaded, older answers may
# be missing, so the page's timeline stops at the oldest loaded one and "Older" goes on there.
SECTION_LIMITS = {"survey": 5}


def contact_timeline(context: Mapping, *, limit: int = TIMELINE_LENGTH) -> list[TimelineEntry]:
    """The newest `limit` things that happened, from the contact page's context."""
    return _merge(_complete(_context_entries(context)), limit=limit)


def _complete(entries: list[TimelineEntry]) -> list[TimelineEntry]:
    """The entries down to where every kind is known (see SECTION_LIMITS)."""
    floors = []
    for kind, loaded_at_most in SECTION_LIMITS.items():
        of_kind = [entry for entry in entries if entry.kind == kind]
        if len(of_kind) >= loaded_at_most:
            floors.append(min(_order(entry) for entry in of_kind))
    if not floors:
        return entries
    return [entry for entry in entries if _order(entry) >= max(floors)]


def _context_entries(context: Mapping) -> list[TimelineEntry]:
    feedback = context.get("contact_feedback") or {}
    return [
        *_entries("email", context.get("emails"), "sent_at"),  # sent ones only
        *_entries("click", context.get("clicks"), "clicked_at"),
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


def _merge(entries: list[TimelineEntry], *, limit: int) -> list[TimelineEntry]:
    return sorted(entries, key=_order, reverse=True)[:limit]


def contact_timeline_more(context: Mapping, *, limit: int = TIMELINE_LENGTH) -> str:
    """The cursor of the contact page's "Older" link, or "" when the page shows it all. The
    sections load a few dozen of each kind (survey answers: 5), so more entries loaded than
    shown means there are more; the link starts below the last one shown, and the next page
    reads every kind from there."""
    entries = _context_entries(context)
    shown = _merge(_complete(entries), limit=limit)
    if len(entries) <= len(shown):
        return ""
    return shown[-1].cursor


def parse_cursor(value: str) -> tuple[dt.datetime, str, int] | None:
    """A `before` cursor from the address bar, or None when it is not one of ours."""
    try:
        moment, kind, pk = value.split("~")
        at = dt.datetime.fromisoformat(moment)
        if at.tzinfo is None or kind not in KIND_LABELS:
            return None
        return at, kind, int(pk)
    except (TypeError, ValueError):
        return None


def _below(moment: str, kind: str, cursor: tuple[dt.datetime, str, int] | None) -> Q:
    """Rows of `kind` that sort after the cursor in the timeline's order (at, kind, id), newest
    first: older, or as old and of a kind that sorts lower, or the same kind and a lower id."""
    if cursor is None:
        return Q()
    at, cursor_kind, pk = cursor
    below = Q(**{f"{moment}__lt": at})
    if kind < cursor_kind:
        below |= Q(**{moment: at})
    elif kind == cursor_kind:
        below |= Q(**{moment: at, "pk__lt": pk})
    return below


def timeline_page(*, user: User, contact: Contact, before: str = "",
                  limit: int = TIMELINE_LENGTH) -> tuple[list[TimelineEntry], str]:
    """The `limit` entries below the cursor `before` (the newest when there is none) and the
    cursor of the page after them ("" at the end): one query per kind the user may see, each
    on the contact's rows in time order, `limit + 1` rows at most."""
    cursor = parse_cursor(before)
    sources: list[tuple[str, QuerySet, str]] = [
        ("note", contact.notes.select_related("author"), "created_at"),
        ("survey", SurveyResponse.objects.filter(contact=contact), "created_at"),
    ]
    if user.has_perm("campaigns.view_message"):
        sources.append(("email", Message.objects.filter(contact=contact, sent_at__isnull=False)
                        .select_related("campaign"), "sent_at"))
        sources.append(("click", LinkClick.objects.filter(contact=contact)
                        .select_related("message__campaign"), "clicked_at"))
    if user.has_perm("customers.view_calllog"):
        sources.append(("call", contact.calls.select_related("user"), "called_at"))
    if user.has_perm("support.view_case"):
        sources.append(("case", Case.objects.filter(contact=contact, verified=True),
                        "created_at"))
    if user.has_perm("activity.view_websiteevent"):
        sources.append(("website", WebsiteEvent.objects.filter(contact=contact), "occurred_at"))
    if user.has_perm("customers.view_consentrecord"):
        sources.append(("consent", ConsentRecord.objects.filter(contact=contact)
                        .select_related("wording"), "occurred_at"))
    entries = []
    for kind, rows, moment in sources:
        rows = rows.filter(_below(moment, kind, cursor)).order_by(f"-{moment}", "-pk")
        entries += _entries(kind, rows[:limit + 1], moment)
    page = _merge(entries, limit=limit + 1)
    return page[:limit], (page[limit - 1].cursor if len(page) > limit else "")
