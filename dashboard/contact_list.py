"""The sales contact list: filters, sort orders and keyset pages that stay fast at 1M contacts.

Pages are "after this contact" (keyset), not "page 4,000" (OFFSET): the database walks an
index from the cursor instead of counting past every earlier row. Totals are the planner's
estimate when nothing is filtered, otherwise an exact count up to COUNT_CAP.
"""
from dataclasses import dataclass

from django import forms
from django.db import connection
from django.db.models import BooleanField, F, FilteredRelation, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin_tools import estimated_row_count
from customers.models import Contact, Stage
from customers.scoring.runs import current_run
from customers.services.rates import contacts_with_provisional
from customers.search import collated

PAGE_SIZE = 25  # a screenful on a laptop; renders in half the time of 50
COUNT_CAP = 10_000
# A search first collects up to this many matching ids with no order (see _searched).
SEARCH_MATCH_CAP = 500

# name -> (label, keys): each key is (field, descending); "id" always ends the order.
SORTS = {
    "recent": (_("Last purchase"), [("last_purchase_at", True)]),
    "spent": (_("Total spent"), [("total_spent", True)]),
    "purchases": (_("Purchases"), [("purchase_count", True)]),
    # Collated per language (customers.search): annotated by _sortable().
    "name": (_("Name"), [("last_name_sorted", False), ("first_name_sorted", False)]),
    "likely": (_("Likely to buy again"), [("current_score__p_buy_again", True)]),
}
SCORE_BANDS = {
    # Not a format string ("% o" only looks like one to xgettext).
    # xgettext:no-python-format
    "high": (_("60% or more"), 0.6, None),
    "mid": (_("20% to 60%"), 0.2, 0.6),
    "low": (_("under 20%"), None, 0.2),
}
# Not a stored stage: repeat clients silent for too long (ContactQuerySet.at_risk).
AT_RISK = "at_risk"
LAST_PURCHASE = {
    "30": _("in the last 30 days"),
    "90": _("in the last 90 days"),
    "365": _("in the last year"),
    "older": _("more than a year ago"),
}


class ContactFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    stage = forms.ChoiceField(label=_("Stage"), required=False,
                              choices=[("", _("All stages")), *Stage.choices,
                                       (AT_RISK, _("At risk"))])
    mine = forms.BooleanField(label=_("My contacts"), required=False)
    consent = forms.ChoiceField(label=_("Marketing consent"), required=False, choices=[
        ("", _("Consent: any")), ("yes", _("Agreed to email")), ("no", _("No consent"))])
    score = forms.ChoiceField(label=_("Likely to buy again"), required=False, choices=[
        ("", _("Likelihood: any")), *[(k, v[0]) for k, v in SCORE_BANDS.items()],
        ("none", _("Not scored"))])
    last = forms.ChoiceField(label=_("Last purchase"), required=False, choices=[
        ("", _("Last purchase: any time")), *LAST_PURCHASE.items()])
    sort = forms.ChoiceField(label=_("Sort by"), required=False,
                             choices=[(k, v[0]) for k, v in SORTS.items()])
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def values(self) -> dict:
        """Cleaned values, with anything invalid ignored (a list page never errors on a URL)."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {name: data.get(name) for name in self.fields if name not in self.errors}


@dataclass
class ContactPage:
    contacts: list
    next_after: int | None
    total: int | None
    total_is_estimate: bool
    total_capped: bool


def _filtered(values: dict, user) -> QuerySet:
    run = current_run()
    contacts = Contact.objects.select_related("owner").annotate(
        current_score=FilteredRelation("scores", condition=Q(scores__run=run)))
    if values.get("q"):
        contacts = contacts.search(values["q"].strip())
    if values.get("stage") == AT_RISK:
        contacts = contacts.at_risk()
    elif values.get("stage"):
        contacts = contacts.filter(stage=values["stage"])
    if values.get("mine"):
        contacts = contacts.owned_by(user)
    if values.get("consent"):
        contacts = contacts.filter(marketing_consent=values["consent"] == "yes")
    contacts = _by_score(contacts, values.get("score"))
    return _by_last_purchase(contacts, values.get("last"))


def _by_score(contacts: QuerySet, band: str | None) -> QuerySet:
    if band == "none":
        return contacts.filter(current_score__isnull=True)
    if band not in SCORE_BANDS:
        return contacts
    _label, low, high = SCORE_BANDS[band]
    if low is not None:
        contacts = contacts.filter(current_score__p_buy_again__gte=low)
    if high is not None:
        contacts = contacts.filter(current_score__p_buy_again__lt=high)
    return contacts


def _by_last_purchase(contacts: QuerySet, last: str | None) -> QuerySet:
    if last not in LAST_PURCHASE:
        return contacts
    year_ago = timezone.now() - timezone.timedelta(days=365)
    if last == "older":
        return contacts.filter(last_purchase_at__lt=year_ago)
    return contacts.filter(last_purchase_at__gte=timezone.now() - timezone.timedelta(days=int(last)))


def _order(keys) -> list:
    order = [F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
             for field, descending in keys]
    return [*order, F("id").desc() if keys[0][1] else F("id").asc()]


def _after(keys, cursor: dict) -> Q:
    """Rows strictly after the cursor row in the order of `keys` (NULLs last, then id)."""
    descending = keys[0][1]
    condition = Q(id__lt=cursor["id"]) if descending else Q(id__gt=cursor["id"])
    for field, desc in reversed(keys):
        value = cursor[field]
        if value is None:
            # After a NULL only more NULLs (with a later id) can come.
            condition = Q(**{f"{field}__isnull": True}) & condition
            continue
        beyond = Q(**{f"{field}__lt" if desc else f"{field}__gt": value})
        condition = (beyond | Q(**{f"{field}__isnull": True})
                     | (Q(**{field: value}) & condition))
    return condition


def _sortable(contacts: QuerySet, keys) -> QuerySet:
    if keys is SORTS["name"][1]:
        return contacts.annotate(last_name_sorted=collated("last_name"),
                                 first_name_sorted=collated("first_name"))
    return contacts


def _searched(contacts: QuerySet) -> tuple[QuerySet, int, bool]:
    """A search's contacts, its count and whether the count is capped.

    Ordered by an index, a search walks that index and tests every row against the folded
    names until it has a page: quick when matches are common, a walk over every contact when
    they are rare but the planner guessed otherwise (two common words that never occur
    together: seconds at 1M contacts). So the matches are first collected without an order,
    where PostgreSQL picks the trigram indexes for rare words and stops early for common
    ones. Up to SEARCH_MATCH_CAP matches, the page is ordered from those ids; beyond, matches
    are common enough that the ordered walk meets a page of them soon (at 1M contacts, 500
    matches are one in 2,000 rows: at worst some 50,000 rows walked, about 100 ms).
    """
    matched = list(contacts.order_by().values_list("pk", flat=True)[:SEARCH_MATCH_CAP + 1])
    if len(matched) > SEARCH_MATCH_CAP:
        return contacts, SEARCH_MATCH_CAP, True
    return contacts.filter(pk__in=matched), len(matched), False


def contact_page(values: dict, *, user) -> ContactPage:
    keys = SORTS.get(values.get("sort") or "recent", SORTS["recent"])[1]
    contacts = _sortable(_filtered(values, user), keys)
    if values.get("q"):
        contacts, total, capped = _searched(contacts)
        estimate = False
    else:
        total, estimate, capped = _total(contacts, values)
    # The current score comes with each row (one indexed join): the list shows it.
    page = contacts.select_related("current_score").order_by(*_order(keys))
    cursor = None
    if values.get("after"):
        cursor = page.filter(pk=values["after"]).values("id", *(f for f, _d in keys)).first()
    if cursor is None:
        rows = list(page[:PAGE_SIZE + 1])
    elif _indexed(keys):
        rows = _rows_after_indexed(page, keys[0][0], cursor)
    else:
        rows = list(page.filter(_after(keys, cursor))[:PAGE_SIZE + 1])
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    waiting = contacts_with_provisional(contact.pk for contact in rows)
    for contact in rows:
        contact.provisional = contact.pk in waiting  # the total leaves those purchases out
    return ContactPage(rows, next_after, total, estimate, capped)


def _indexed(keys) -> bool:
    """One descending column of the contact table (an index reads it top-down with id)."""
    return len(keys) == 1 and keys[0][1] and "__" not in keys[0][0]


def _rows_after_indexed(page: QuerySet, field: str, cursor: dict) -> list:
    """Rows after the cursor as a row comparison the index can start from, not an OR the
    database must filter row by row (a page half-way down 1M contacts: 250 ms -> a few ms).
    NULLs sort last, so they follow once the non-NULL rows run out."""
    model_field = Contact._meta.get_field(field)
    rows = []
    if cursor[field] is not None:
        value = model_field.get_db_prep_value(cursor[field], connection)
        table = Contact._meta.db_table
        after = RawSQL(f"({table}.{model_field.column}, {table}.id) < (%s, %s)",
                       (value, cursor["id"]), output_field=BooleanField())
        rows = list(page.alias(after_cursor=after).filter(after_cursor=True)[:PAGE_SIZE + 1])
        nulls = page.filter(**{f"{field}__isnull": True})
    else:
        nulls = page.filter(**{f"{field}__isnull": True, "id__lt": cursor["id"]})
    if len(rows) <= PAGE_SIZE:
        rows += list(nulls[:PAGE_SIZE + 1 - len(rows)])
    return rows


def _total(contacts: QuerySet, values: dict) -> tuple[int | None, bool, bool]:
    filtered = any(values.get(name) for name in ("q", "stage", "mine", "consent", "score", "last"))
    if not filtered:
        estimate = estimated_row_count(Contact)
        if estimate is not None and estimate > COUNT_CAP:
            return estimate, True, False
    count = contacts.order_by()[:COUNT_CAP + 1].count()
    return min(count, COUNT_CAP), False, count > COUNT_CAP


def export_rows(values: dict, *, user):
    """Every contact the filters match, in the list's order, for the CSV export."""
    keys = SORTS.get(values.get("sort") or "recent", SORTS["recent"])[1]
    return _sortable(_filtered(values, user), keys).order_by(*_order(keys))


def matching_contacts(values: dict, *, user) -> QuerySet:
    """Every contact the filters match, unordered: what a bulk action on the whole filtered
    list acts on (dashboard.bulk re-evaluates the filters on the server)."""
    return _filtered(values, user).select_related(None).order_by()
