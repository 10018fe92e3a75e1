"""Journeys: a campaign with steps (JourneyStep) walks each contact through them, the contact's
place stored in a JourneyEnrollment so that it survives crashes and redeploys.

    journey_enroll(campaign, contacts, key=..., now=...) -> int     # one INSERT ... SELECT
    journey_event_enroll(campaign, contact_ids, now=...) -> int      # an event campaign's entry
    journeys_exit_bought(contact_ids, now=...) -> int                # they bought: CONVERTED
    anniversaries_enroll(now=...) -> int                             # the daily anniversary
    (the steps themselves: campaigns.journey_advance)

Entry: by the campaign's trigger. An event enrolls the contacts it concerns (once, ever: key
""), a manual or scheduled run enrolls its audience (key "run:<run id>", the run's key making
it once per key), and the first-purchase anniversary enrolls once a year (key: the year).
Each enrollment is held out with the campaign's holdout_percent probability: a held-out
contact walks every step (so exits and conditions are the same for both groups) and is
never emailed; each of their email steps writes a HELD_OUT row, which is what
campaigns.measurement compares with.

Exits: a purchase ends every ACTIVE enrollment of its contact that started before it
(CONVERTED) the moment it is recorded (customers.hooks.purchase_created, and for imports
purchases_committed), and cancels the journey's emails still queued for them (CANCELLED).
An unsubscribe, withdrawn consent or a suppressed address ends the enrollment at its next
step (UNSUBSCRIBED); the outbox checks consent, suppression and the frequency cap again when
it sends.
"""
import calendar
import datetime as dt
import logging
import secrets

from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from customers.models import Contact, Purchase

from .audience import AudienceCriteria, audience_contacts
from .models import Campaign, JourneyEnrollment, Message

logger = logging.getLogger(__name__)
Enrollment = JourneyEnrollment


def is_journey(campaign: Campaign) -> bool:
    """A campaign with steps is a journey (one query)."""
    return campaign.steps.exists()


def enrolled_recently(campaign: Campaign, *, now: dt.datetime) -> QuerySet[Enrollment]:
    """The campaign's enrollments, correlated on an outer Contact, that keep the contact out
    of a new run: still in the journey, or entered within the campaign's uplift window (as
    campaigns.services.campaign_reached does for one-email campaigns)."""
    since = now - dt.timedelta(days=campaign.uplift_window_days)
    return Enrollment.objects.filter(campaign=campaign, contact=OuterRef("pk")).filter(
        Q(status=Enrollment.Status.ACTIVE) | Q(started_at__gt=since))


def journey_enroll(campaign: Campaign, contacts: QuerySet[Contact], *, key: str,
                   now: dt.datetime) -> int:
    """Enroll these contacts (one INSERT ... SELECT, never a per-contact loop), each held out
    with the campaign's probability; contacts enrolled with this key already, or still in
    the journey, are left out. Returns the enrollments written. The caller holds the
    campaign's row lock (campaigns.services), which serialises writers of one campaign."""
    contacts = contacts.filter(
        ~Exists(Enrollment.objects.filter(campaign=campaign, contact=OuterRef("pk"))
                .filter(Q(key=key) | Q(status=Enrollment.Status.ACTIVE))))
    eligible = contacts.order_by().count()
    if not eligible:
        return 0
    # As many held out as one draw per contact gives (a binomial count), placed at random.
    held_out = sum(secrets.randbelow(100) < campaign.holdout_percent for _ in range(eligible))
    audience_sql, audience_params = contacts.order_by().values("id").query.sql_with_params()
    table = Enrollment._meta.db_table
    # WHERE true: SQLite's parser needs it before ON CONFLICT after a SELECT.
    sql = f"""
        INSERT INTO {table} (campaign_id, contact_id, key, held_out, status, next_position,
                             next_at, started_at)
        SELECT %s, a.id, %s, CASE WHEN a.draw <= %s THEN TRUE ELSE FALSE END, %s, 1, %s, %s
        FROM (SELECT c.id, ROW_NUMBER() OVER (ORDER BY RANDOM()) AS draw
              FROM ({audience_sql}) c) a
        WHERE TRUE
        ON CONFLICT DO NOTHING
    """
    first_at = now + dt.timedelta(days=campaign.delay_days)
    params = [campaign.pk, key, held_out, Enrollment.Status.ACTIVE, first_at, now,
              *audience_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def journey_event_enroll(campaign: Campaign, contact_ids: list[int], *, now: dt.datetime,
                         key: str = "") -> int:
    """An event journey's entry for these contacts: its audience, once per `key` ("" = once,
    ever, as an event campaign's email). The first step is due after the campaign's delay."""
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        contacts = (audience_contacts(AudienceCriteria.for_campaign(campaign), now=now)
                    .filter(pk__in=contact_ids))
        return journey_enroll(campaign, contacts, key=key, now=now)


# --- Exits ------------------------------------------------------------------------------------

def enrollments_end(enrollments: QuerySet[Enrollment], *, status: str,
                    now: dt.datetime) -> int:
    """End these enrollments (the ACTIVE ones) with `status`, and cancel their emails still
    QUEUED; their runs close once nothing else is pending. Returns enrollments ended."""
    from .outbox import run_finish_if_drained  # the outbox builds on rendering, which builds on models

    ids = list(enrollments.filter(status=Enrollment.Status.ACTIVE).values_list("pk", flat=True))
    if not ids:
        return 0
    ended = Enrollment.objects.filter(pk__in=ids, status=Enrollment.Status.ACTIVE).update(
        status=status, ended_at=now)
    queued = Message.objects.filter(enrollment_id__in=ids, status=Message.Status.QUEUED)
    run_ids = set(queued.values_list("run_id", flat=True))
    queued.update(status=Message.Status.CANCELLED,
                  last_error=f"left the journey: {status}")
    for run_id in sorted(run_ids):
        run_finish_if_drained(run_id)
    return ended


def bought_since_started() -> QuerySet[Purchase]:
    """A live purchase of the enrollment's contact since it started, correlated on an outer
    JourneyEnrollment."""
    return Purchase.objects.counted().filter(contact=OuterRef("contact_id"),
                                             purchased_at__gte=OuterRef("started_at"))


def journeys_exit_bought(contact_ids, *, now: dt.datetime | None = None) -> int:
    """These contacts bought: their ACTIVE enrollments that started before the purchase end
    CONVERTED and their queued journey emails are cancelled. Safe to call twice."""
    now = now or timezone.now()
    ending = (Enrollment.objects.filter(contact_id__in=list(contact_ids),
                                        status=Enrollment.Status.ACTIVE)
              .filter(Exists(bought_since_started())))
    return enrollments_end(ending, status=Enrollment.Status.CONVERTED, now=now)


def purchase_exit(purchase) -> str:
    """customers.hooks.purchase_created: inside the purchase's transaction, so the journey
    ends the moment the sale is recorded, by any door (API, admin, sales form, shop
    connector: all call customers.services.purchase_record). Never fails the sale: an error
    is logged and the next step's own check ends the enrollment instead. Returns "" (no code
    outcome)."""
    if purchase.refunded_at is not None:
        return ""
    try:
        with transaction.atomic():
            journeys_exit_bought([purchase.contact_id])
    except Exception:  # never lose a sale over a journey; the next step checks again
        logger.exception("Could not end the journeys of contact %s after purchase %s",
                         purchase.contact_id, purchase.pk)
    return ""


def purchases_exit(counts_before) -> None:
    """customers.hooks.purchases_committed: an import's chunk of contacts bought."""
    journeys_exit_bought(list(counts_before))


def contact_erased_end(contact_id: int, *, now: dt.datetime | None = None) -> int:
    """Erasure (privacy): the person leaves every journey they are in, nothing more is
    queued for them."""
    return enrollments_end(Enrollment.objects.filter(contact_id=contact_id),
                           status=Enrollment.Status.STOPPED, now=now or timezone.now())


# --- The first-purchase anniversary --------------------------------------------------------

def anniversary_contacts(day: dt.date) -> QuerySet[Contact]:
    """Contacts whose first purchase was on this day and month (in the shop's time zone) of
    an earlier year; on 28 February of a year without 29 February, those of 29 February too."""
    same_day = Q(first_purchase_at__month=day.month, first_purchase_at__day=day.day)
    if (day.month, day.day) == (2, 28) and not calendar.isleap(day.year):
        same_day |= Q(first_purchase_at__month=2, first_purchase_at__day=29)
    return Contact.objects.filter(same_day, first_purchase_at__year__lt=day.year)


def anniversaries_enroll(*, now: dt.datetime | None = None) -> int:
    """Daily: the active "first-purchase anniversary" campaigns take today's contacts, once
    a year each (key: the year), a journey by enrolling them, a one-email campaign by its
    day's event run. Safe to run twice. Returns enrollments (or rows) written."""
    from .services import event_messages_write, sendable  # services imports this module

    now = now or timezone.now()
    today = timezone.localdate(now)
    campaigns = Campaign.objects.filter(is_active=True, trigger=Campaign.Trigger.EVENT,
                                        event=Campaign.Event.ANNIVERSARY).order_by("pk")
    written = 0
    for campaign in campaigns:
        if not sendable(campaign):
            continue
        contacts = anniversary_contacts(today)
        if is_journey(campaign):
            with transaction.atomic():
                Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
                audience = audience_contacts(AudienceCriteria.for_campaign(campaign), now=now)
                written += journey_enroll(
                    campaign, audience.filter(pk__in=contacts.values("pk")),
                    key=str(today.year), now=now)
        else:
            ids = list(contacts.values_list("pk", flat=True))
            if ids:
                written += event_messages_write(campaign, ids, now=now, key="anniversary",
                                                once_ever=False)
    return written
