"""Reads for screens: each returns exactly what its page shows, in a fixed number of queries.

The dashboard sits on top of every app, so it reads the feature apps' selectors directly:
the contact page's sections, the call list's listening columns, the KPI page's NPS."""
import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import (
    Count, Exists, ExpressionWrapper, F, FloatField, Min, OuterRef, Prefetch, Q, QuerySet,
    Subquery, Sum, Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from accounts.roles import is_manager
from activity.selectors import contact_events_section
from campaigns.selectors import contact_clicks, contact_coupons, contact_emails
from customers.consent.selectors import contact_consent_history
from customers.models import (
    CallLog, Contact, ContactScore, FollowUp, Note, Purchase, PurchaseLine,
)
from customers.querysets import net_amount_base
from customers.services.calls import called_recently_since
from feedback.selectors import (
    contact_feedback, contact_latest_survey_score, latest_comments, nps_summary,
)
from support.models import Case, Priority
from support.selectors import contact_cases, contact_open_cases_count, overdue_cases

CASES_SHOWN = 20
NPS_WINDOW_DAYS = 90  # the KPI page's NPS: the last three months, live (small tables)


def contact_list(
    *, search: str = "", stage: str = "", owner: User | None = None
) -> QuerySet[Contact]:
    contacts = Contact.objects.select_related("owner")
    if search:
        contacts = contacts.search(search)
    if stage:
        contacts = contacts.filter(stage=stage)
    if owner is not None:
        contacts = contacts.owned_by(owner)
    return contacts.order_by("-last_purchase_at", "-id")


def contact_purchases(*, contact: Contact) -> QuerySet[Purchase]:
    return contact.purchases.select_related("recorded_by").prefetch_related(
        Prefetch("lines", PurchaseLine.objects.select_related("product")),
    ).order_by("-purchased_at", "-id")


def contact_current_score(*, contact: Contact) -> ContactScore | None:
    """The contact's score from the current scoring run, if it has one."""
    from customers.scoring.runs import current_run

    run = current_run()
    if run is None:
        return None
    return ContactScore.objects.filter(run=run, contact=contact).select_related("run").first()


def contact_first_day_spend(*, contact: Contact) -> float:
    """What the contact spent on their first purchase day (base currency)."""
    return contacts_first_day_spend([contact.pk]).get(contact.pk, 0.0)


def contacts_first_day_spend(contact_ids: list[int]) -> dict[int, float]:
    """What each contact spent on their first purchase day (base currency), in two queries;
    contacts without a counted purchase are left out."""
    counted = Purchase.objects.counted().filter(contact_id__in=contact_ids)
    firsts = counted.order_by().values("contact_id").annotate(day=Min("purchased_on"))
    days = Q(pk__in=[])
    for first in firsts:
        days |= Q(contact_id=first["contact_id"], purchased_on=first["day"])
    totals = counted.filter(days).order_by().values("contact_id").annotate(
        total=Sum(net_amount_base()))
    return {row["contact_id"]: float(row["total"] or 0) for row in totals}


# The call list: one-time buyers with a real but uncertain chance (the sure ones come back
# anyway), and repeat clients whose P(alive) is falling, ranked by the value a call could win
# back (slipping_value), lost causes (P(alive) below settings.CRM_SLIPPING_MIN_P_ALIVE) left out.
NUDGE_BAND = (0.10, 0.80)
SLIPPING_BELOW = 0.5


def slipping_value() -> ExpressionWrapper:
    """The value a call could win back: the contact's 12-month value if they stay active times
    the drop in P(alive) since their last purchase (Pareto/NBD's P(alive) is 1 on the day of a
    purchase, so the drop is 1 - P(alive)). Rows of a run from before value_if_active_12m was
    stored fall back to predicted_value_12m / P(alive) (the two came from one model there)."""
    value = Coalesce(F("value_if_active_12m"), F("predicted_value_12m") / F("p_alive"))
    return ExpressionWrapper(value * (Value(1.0) - F("p_alive")), output_field=FloatField())


def call_list(*, user: User, mine: bool, limit: int = 20) -> dict[str, list]:
    """Today's call list for a member of staff: three short ranked lists."""
    from customers.scoring.runs import current_run

    run = current_run()
    scores = _with_listening(
        ContactScore.objects.filter(run=run).select_related("contact", "contact__owner"))
    if mine:
        scores = scores.filter(contact__owner=user)
    # Someone called in the last CRM_CALLED_RECENTLY_DAYS days is left alone for now (one
    # probe of call_contact_idx per row).
    since = called_recently_since()
    scores = scores.filter(~Exists(CallLog.objects.filter(
        contact=OuterRef("contact_id"), called_at__gte=since)))
    # frequency=0 (no repeat purchase when scored; a purchase re-scores the contact) lets
    # score_run_freq_prob_idx serve the order; the stage keeps the list exact regardless.
    convert = scores.filter(frequency=0, contact__stage="one_time",
                            p_buy_again__gte=NUDGE_BAND[0],
                            p_buy_again__lte=NUDGE_BAND[1]).order_by("-p_buy_again", "pk")
    slipping = (scores.filter(contact__stage="repeat", p_alive__lt=SLIPPING_BELOW,
                              p_alive__gte=max(settings.CRM_SLIPPING_MIN_P_ALIVE, 1e-9))
                .annotate(slipping_value=slipping_value())
                .filter(slipping_value__gt=0).order_by("-slipping_value", "pk"))
    follow_ups = (follow_ups_due().select_related("contact", "assigned_to")
                  .order_by("due_on", "due_time", "pk"))
    if mine or not is_manager(user):
        follow_ups = follow_ups.filter(assigned_to=user)
    # A due follow-up whose contact was called since it was set (and recently) leaves the list
    # too; it stays open on the contact page and in "My follow-ups" until marked done. The
    # follow-up a call schedules is set after that call, so it comes back on its day.
    follow_ups = follow_ups.filter(~Exists(CallLog.objects.filter(
        contact=OuterRef("contact_id"), called_at__gte=since, called_at__gt=OuterRef("created_at"))))
    return {"convert": list(convert[:limit]) if run else [],
            "slipping": list(slipping[:limit]) if run else [],
            "follow_ups": list(follow_ups[:limit])}


def _with_listening(scores: QuerySet) -> QuerySet:
    """Each row's latest survey score and open support cases, beside the scores."""
    return scores.annotate(latest_survey=contact_latest_survey_score(),
                           open_cases=contact_open_cases_count())


def contact_notes(*, contact: Contact) -> QuerySet[Note]:
    return contact.notes.select_related("author")


def contact_calls(*, contact: Contact) -> QuerySet[CallLog]:
    return contact.calls.select_related("user")


def contact_page_contacts() -> QuerySet[Contact]:
    """The contact page's row: its owner, and its open follow-ups and cases counted in the
    same query (the header shows them)."""
    def count(rows: QuerySet) -> Coalesce:
        return Coalesce(Subquery(rows.order_by().values("contact").annotate(n=Count("id"))
                                 .values("n")), 0)

    return Contact.objects.select_related("owner").annotate(
        open_follow_ups=count(FollowUp.objects.filter(contact=OuterRef("pk"),
                                                      done_at__isnull=True)),
        open_cases=count(Case.objects.filter(contact=OuterRef("pk"))
                         .exclude(status=Case.Status.SOLVED)))


def calls_this_week(*, user: User) -> int:
    """The calls the user logged since Monday (the shop's time zone)."""
    today = timezone.localdate()
    monday = today - dt.timedelta(days=today.weekday())
    start = timezone.make_aware(dt.datetime.combine(monday, dt.time.min))
    return CallLog.objects.filter(user=user, called_at__gte=start).count()


def contact_follow_ups(*, contact: Contact) -> QuerySet[FollowUp]:
    return contact.follow_ups.select_related("assigned_to").order_by("done_at", "due_on",
                                                                     "due_time", "pk")


def follow_ups_due() -> QuerySet[FollowUp]:
    """Open follow-ups due today (whatever the time) or before: the call list's and the
    navigation badge's."""
    return FollowUp.objects.filter(done_at__isnull=True, due_on__lte=timezone.localdate())


def follow_ups_due_count(*, user: User) -> int:
    """The user's open follow-ups due today (whatever the time) or before."""
    return follow_ups_due().filter(assigned_to=user).count()


def my_follow_ups(*, user: User, include_done: bool = False) -> QuerySet[FollowUp]:
    tasks = FollowUp.objects.filter(assigned_to=user).select_related("contact")
    if not include_done:
        tasks = tasks.filter(done_at__isnull=True)
    return tasks.order_by("done_at", "due_on", "due_time", "pk")


def contact_sections(*, user: User, contact: Contact) -> dict:
    """What the other apps hold about the contact, for the contact page: emails and coupons,
    survey answers, cases, consent history, website actions; only the sections the user may
    see (the timeline is built from them, so it shows no more)."""
    sections: dict[str, Any] = {}
    if user.has_perm("campaigns.view_message"):
        sections["emails"] = contact_emails(contact=contact)
        # Clicks only exist on sent emails: no query for a contact never emailed.
        if any(email.sent_at for email in sections["emails"]):
            sections["clicks"] = contact_clicks(contact=contact)
    if user.has_perm("campaigns.view_coupon"):
        sections["coupons"] = contact_coupons(contact=contact)
    sections["contact_feedback"] = contact_feedback(contact)
    if user.has_perm("support.view_case"):
        sections.update({"contact_cases": contact_cases(contact=contact)[:CASES_SHOWN],
                         "case_channels": Case.Channel.choices,
                         "case_priorities": Priority.choices})
    if user.has_perm("customers.view_consentrecord"):
        sections["consent_history"] = contact_consent_history(contact=contact)
    if user.has_perm("activity.view_websiteevent"):
        sections.update(contact_events_section(contact=contact))
    return sections


def today_overdue_cases(*, owner: User | None) -> list[Case]:
    """The Today page's overdue support cases (owner: the user whose lists, or None)."""
    return list(overdue_cases(owner=owner)[:CASES_SHOWN])


def kpi_listening() -> dict:
    """The KPI page's live figures: NPS over the last three months and the latest comments."""
    today = timezone.localdate()
    return {"nps": nps_summary(start=today - dt.timedelta(days=NPS_WINDOW_DAYS), end=today),
            "comments": latest_comments(limit=5)}
