"""Audience criteria on how contacts answer our emails (campaigns.clicks; audience builds on
these):

    clicked_within_days        clicked a link in one of our emails within the last N days
    no_click_after_emails      was sent at least N of our emails and clicked none of them

Clicks are people's (campaigns.clicks leaves scanners and bots out). Each is one EXISTS or
one correlated count on the contact's rows (click_contact_idx, message_contact_sent_idx).
"""
import datetime as dt

from django.db.models import Count, Exists, IntegerField, OuterRef, Q, Subquery
from django.db.models.lookups import GreaterThanOrEqual
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import LinkClick, Message

CLICK_MAX_DAYS = 730
EMAILS_MAX = 1000
FIELDS = ("clicked_within_days", "no_click_after_emails")


def _parse_int(name: str, value: object, errors, high: int, message: str) -> int | None:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        errors.add(name, message % {"max": high}, "invalid_number")
        return None
    return value


def parse_click_days(name: str, value: object, errors) -> int | None:
    return _parse_int(name, value, errors, CLICK_MAX_DAYS,
                      _("Enter a number of days from 1 to %(max)d."))


def parse_email_count(name: str, value: object, errors) -> int | None:
    return _parse_int(name, value, errors, EMAILS_MAX,
                      _("Enter a number of emails from 1 to %(max)d."))


PARSERS = {"clicked_within_days": parse_click_days, "no_click_after_emails": parse_email_count}


def clicks_q(criteria, now: dt.datetime) -> Q:
    """The set click criteria as one Q on Contact."""
    q = Q()
    if criteria.clicked_within_days is not None:
        since = now - dt.timedelta(days=criteria.clicked_within_days)
        q &= Q(Exists(LinkClick.objects.filter(contact=OuterRef("pk"),
                                               kind=LinkClick.Kind.CLICK,
                                               clicked_at__gte=since)))
    if criteria.no_click_after_emails is not None:
        sent = Subquery(Message.objects.filter(contact=OuterRef("pk"), status=Message.Status.SENT)
                        .order_by().values("contact").annotate(n=Count("pk")).values("n"),
                        output_field=IntegerField())
        q &= Q(GreaterThanOrEqual(sent, criteria.no_click_after_emails))
        q &= ~Q(Exists(LinkClick.objects.filter(contact=OuterRef("pk"),
                                                kind=LinkClick.Kind.CLICK)))
    return q


def reasons(criteria) -> list[str]:
    """Why every contact of the sample is in, for the click criteria (the same for all)."""
    found = []
    if criteria.clicked_within_days is not None:
        found.append(ngettext("clicked a link in our emails in the last %(days)d day",
                              "clicked a link in our emails in the last %(days)d days",
                              criteria.clicked_within_days)
                     % {"days": criteria.clicked_within_days})
    if criteria.no_click_after_emails is not None:
        found.append(ngettext("got at least %(count)d of our emails and clicked none",
                              "got at least %(count)d of our emails and clicked none",
                              criteria.no_click_after_emails)
                     % {"count": criteria.no_click_after_emails})
    return found
