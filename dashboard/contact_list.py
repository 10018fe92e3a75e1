"""The sales contact list: filters, sort orders and keyset pages that stay fast at 1M contacts.

Pages are "after this contact" (keyset), not "page 4,000" (OFFSET): the database walks an
index from the cursor instead of counting past every earlier row. Totals are the planner's
estimate when nothing is filtered, otherwise an exact count up to COUNT_CAP.
"""
from dataclasses import dataclass

from django import forms
from django.db.models import (BooleanField, Exists, Expression, F, FilteredRelation, OuterRef, Q,
                              QuerySet, Value)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin_tools import estimated_row_count
from customers.models import Contact, ContactScore, Stage
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


def _nullable(field: str) -> bool:
    """Whether a sort key can be NULL: a nullable column, or the score of an unscored contact
    (the LEFT JOIN's). The collated names are annotations of NOT NULL columns."""
    if "__" in field:
        return True
    return Contact._meta.get_field(field.removesuffix("_sorted")).null


def _order(keys, *, nulls: bool = True) -> list:
    # NULLS LAST only where a key can be NULL: on a NOT NULL column it changes nothing shown,
    # but "DESC NULLS LAST" does not match a plain "DESC" index, and PostgreSQL would sort a
    # million rows instead of reading the index top-down (total spent: 1.6 s -> a few ms).
    order = [(F(field).desc if descending else F(field).asc)(
                 **({"nulls_last": True} if nulls and _nullable(field) else {}))
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
    if cursor is None and "__" not in keys[0][0]:
        rows = list(page[:PAGE_SIZE + 1])
    elif _row_comparable(keys):
        rows = _keyset_rows(page, keys, cursor)
    else:
        rows = list(page.filter(_after(keys, cursor))[:PAGE_SIZE + 1])
    next_after = rows[PAGE_SIZE - 1].pk if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    waiting = contacts_with_provisional(contact.pk for contact in rows)
    for contact in rows:
        contact.provisional = contact.pk in waiting  # the total leaves those purchases out
    return ContactPage(rows, next_after, total, estimate, capped)


def _row_comparable(keys) -> bool:
    """Keys one row comparison can page through: one direction, only the first key NULL-able."""
    return (len({descending for _field, descending in keys}) == 1
            and not any(_nullable(field) for field, _d in keys[1:]))


class _RowBeyond(Expression):
    """`(key, ..., id) <= (value, ..., id - 1)` (`>= (..., id + 1)` for an ascending order),
    the same rows as `< (value, ..., id)` as ids are integers: a row comparison an index on
    those keys starts from, not an OR the database must filter row by row (a page half-way
    down 1M contacts: 250 ms -> a few ms). PostgreSQL estimates a row comparison by its first
    key alone: with `<`, the page after the last contact with 0 spent is "total_spent < 0",
    one row by the statistics, so it joined and sorted the 50,000 rows that follow (0.9 s);
    with `<=`, "total_spent <= 0", the real tenth of the table, it reads the index in order
    and stops after a page."""

    output_field = BooleanField()

    def __init__(self, expressions, values, descending: bool):
        super().__init__()
        self.expressions, self.values, self.descending = list(expressions), values, descending

    def get_source_expressions(self):
        return self.expressions

    def set_source_expressions(self, expressions):
        self.expressions = list(expressions)

    def as_sql(self, compiler, connection):
        left, right, params = [], [], []
        for expression in self.expressions:
            sql, expression_params = compiler.compile(expression)
            left.append(sql)
            params += expression_params
        for expression, value in zip(self.expressions, self.values):
            sql, value_params = compiler.compile(Value(value,
                                                       output_field=expression.output_field))
            right.append(sql)
            params += value_params
        operator = "<=" if self.descending else ">="
        return f"({', '.join(left)}) {operator} ({', '.join(right)})", params


def _tiebreak(lead: str) -> str:
    """The contact id, as the table of the first key holds it: a row comparison or an ORDER BY
    an index can serve names that table's columns only (the score's contact_id, not the
    contact's id, though the join makes them equal)."""
    return f"{lead.split('__')[0]}__contact_id" if "__" in lead else "id"


def _unset(lead: str):
    """The rows whose first key is NULL."""
    if lead.startswith("current_score__"):
        # Unscored contacts as NOT EXISTS, which PostgreSQL plans as the anti-join it is and
        # walks by id; "p_buy_again IS NULL" after the LEFT JOIN it estimates at one row (the
        # column is never NULL) and hashed all 900,000 scores to find them (2.4 s).
        return ~Exists(ContactScore.objects.filter(contact=OuterRef("pk"), run=current_run()))
    return Q(**{f"{lead}__isnull": True})


def _keyset_rows(page: QuerySet, keys, cursor: dict | None) -> list:
    """A page in two parts: the rows whose first key is set, in the order of an index on the
    keys and id, from the cursor on; then, once those run out, the rows where it is NULL (they
    sort last), by id. The likelihood's NULLs come from the LEFT JOIN (unscored contacts), so
    its first page is split too: the scores are read down their index
    (run, p_buy_again DESC, contact DESC) and joined to the contacts, instead of sorting a
    million joined rows (likelihood: 2 s -> a few ms)."""
    lead, descending = keys[0]
    fields = [field for field, _d in keys]
    rows, nulls_after = [], None
    if cursor is None or cursor[lead] is not None:
        ranked = page  # the row comparison leaves NULLs out
        if "__" in lead:
            # Scored contacts only, in the score index's own order (a DESC index puts NULLs
            # first; there are none here). A contact column's index has the list's NULLS LAST.
            ranked = page.filter(**{f"{lead}__isnull": False}).order_by(
                *_order(keys, nulls=False)[:-1],
                F(_tiebreak(lead)).desc() if descending else F(_tiebreak(lead)).asc())
        if cursor is not None:
            # An alias, not filter(expression): that would join the scores a second time.
            beyond = _RowBeyond([*(F(field) for field in fields), F(_tiebreak(lead))],
                                [*(cursor[field] for field in fields),
                                 cursor["id"] - 1 if descending else cursor["id"] + 1],
                                descending)
            ranked = ranked.alias(beyond_cursor=beyond).filter(beyond_cursor=True)
        rows = list(ranked[:PAGE_SIZE + 1])
    else:
        nulls_after = cursor["id"]
    if len(rows) <= PAGE_SIZE and _nullable(lead):
        # Ordered by id alone (what the full order is when the key is NULL): PostgreSQL cannot
        # tell the score is NULL in every one of these rows and would sort them by it.
        nulls = page.filter(_unset(lead)).order_by("-id" if descending else "id")
        if nulls_after is not None:
            nulls = nulls.filter(**{"id__lt" if descending else "id__gt": nulls_after})
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
