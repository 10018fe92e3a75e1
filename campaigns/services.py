"""Campaign runs: fix the audience, split the holdout, write the outbox, then send.

    run = campaign_run_start(campaign=..., started_by=user)   # None if this key ran already
    campaign_event(contact_id=..., event=Campaign.Event.FIRST_PURCHASE)

A run writes one Message row per audience contact in a single INSERT ... SELECT (never a
per-contact loop): a random `holdout_percent` of them as HELD_OUT (never emailed, kept to
measure uplift), the rest QUEUED. Sending starts after the transaction commits.

A contact is assigned to a campaign's groups once per measurement window: a run leaves out
everyone an earlier run of the same campaign emailed (or is emailing) or held out within the
campaign's uplift window (`campaign_reached`), so a repeated run reaches only new people and a
held-out contact stays held out. `campaign_run_plan` is the dry run of exactly that.
"""
import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from crm.models import Heartbeat
from crm.shop import shop
from customers.models import Contact

from .audience import AudienceCriteria, audience_contacts, audience_size
from .coupons import coupons_issue_for_run
from .journeys import enrolled_recently, is_journey, journey_enroll, journey_event_enroll
from .models import Campaign, CampaignRun, Message
from .referrals import referral_codes_ensure
from .template_needs import campaign_check_sendable
from .variants import test_split, variants_assign_run, variants_assign_stream

logger = logging.getLogger(__name__)


def _message_id_domain() -> str:
    # As campaigns.rendering.new_message_id: the sender's own domain.
    return parseaddr(shop().from_email)[1].rpartition("@")[2] or "localhost"


# Rows that put their contact in one of the campaign's two groups: emailed (about to be,
# being, or possibly: UNKNOWN; a bounce was offered to the server too) or held out. Suppressed,
# capped and failed rows never reached anyone, so a later run may try those contacts again.
IN_FLIGHT = (Message.Status.QUEUED, Message.Status.SENDING, Message.Status.WAITING)
ASSIGNED = (Message.Status.SENT, Message.Status.UNKNOWN, Message.Status.BOUNCED,
            Message.Status.HELD_OUT)


def campaign_reached(campaign: Campaign, *, now: dt.datetime) -> QuerySet[Message]:
    """The campaign's rows, correlated on an outer Contact, that keep the contact out of a new
    run: in flight, or emailed or held out within the campaign's uplift window.

    The window starts where campaigns.measurement starts it (sent_at for an emailed row,
    not_before for a held-out one), so a held-out contact stays held out for as long as their
    purchases are measured; after that they may be picked again as a fresh unit."""
    since = now - dt.timedelta(days=campaign.uplift_window_days)
    return (Message.objects.filter(campaign=campaign, contact=OuterRef("pk"))
            .alias(window_start=Coalesce("sent_at", "not_before"))
            .filter(Q(status__in=IN_FLIGHT) | Q(status__in=ASSIGNED, window_start__gt=since)))


@dataclass(frozen=True)
class RunPlan:
    """What a run started now would do (the "Run now" confirmation shows it)."""

    audience: int   # contacts the criteria select now
    reached: int    # of them, already emailed or held out in the window: left out
    emailed: int    # queued to be emailed (the send-time checks may still stop some)
    held_out: int   # held out at random
    tested: int = 0   # of the emailed, in the subject test now (campaigns.variants)
    waiting: int = 0  # of the emailed, waiting for the test's winner


def _fresh_contacts(campaign: Campaign, now: dt.datetime) -> QuerySet[Contact]:
    """The audience now, less the contacts the campaign has reached within its window."""
    audience = audience_contacts(AudienceCriteria.for_campaign(campaign), now=now)
    fresh = audience.filter(~Exists(campaign_reached(campaign, now=now)))
    if is_journey(campaign):  # and not in it, nor entered within the window
        fresh = fresh.filter(~Exists(enrolled_recently(campaign, now=now)))
    return fresh


def holdout_size(contacts: int, percent: int) -> int:
    return round(contacts * percent / 100)


def campaign_run_plan(campaign: Campaign, *, now: dt.datetime | None = None) -> RunPlan:
    """The dry run of campaign_run_start: the same queries, nothing written. ValidationError
    when the campaign cannot run (campaign_check_sendable), as the run itself would raise."""
    campaign_check_sendable(campaign)
    now = now or timezone.now()
    audience = audience_size(AudienceCriteria.for_campaign(campaign), now=now)
    count = _fresh_contacts(campaign, now).order_by().count()
    held_out = holdout_size(count, campaign.holdout_percent)
    tested, waiting = test_split(campaign, count - held_out)
    return RunPlan(audience=audience, reached=audience - count, emailed=count - held_out,
                   held_out=held_out, tested=tested, waiting=waiting)


def campaign_run_start(*, campaign: Campaign, key: str | None = None, started_by=None,
                       now: dt.datetime | None = None) -> CampaignRun | None:
    """Build one run of the campaign; None when a run with this key exists already.

    `key` makes triggers idempotent (a schedule passes its day); manual starts get a fresh key.
    Contacts an earlier run emailed or held out within the window are left out.
    ValidationError, before anything is written, for a campaign whose template needs what it
    does not create (a coupon, referral codes, survey links: campaigns.template_needs).
    """
    campaign_check_sendable(campaign)
    now = now or timezone.now()
    key = key or f"manual:{now.isoformat()}:{secrets.token_hex(4)}"
    with transaction.atomic():
        # The campaign row lock serialises its runs (and event messages): a run built at the
        # same moment as another sees the other's rows, so nobody is assigned twice. Taken
        # before the run row is written, in the same order as _event_message, so no deadlock.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        try:
            with transaction.atomic():
                run = CampaignRun.objects.create(campaign=campaign, key=key,
                                                 started_by=started_by, started_at=now)
        except IntegrityError:
            return None
        contacts = _fresh_contacts(campaign, now)
        if is_journey(campaign):  # the audience enters the journey; its steps send
            journey_enroll(campaign, contacts, key=f"run:{run.pk}", now=now)
            CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.DONE,
                                                         finished_at=now)
            run.status, run.finished_at = CampaignRun.Status.DONE, now
            return run
        held_out = holdout_size(contacts.order_by().count(), campaign.holdout_percent)
        _messages_create(run, contacts, held_out=held_out, now=now,
                         not_before=now + dt.timedelta(days=campaign.delay_days))
        _run_extras(run)
        # After the extras: a row waiting for the test's winner has its coupon and code too.
        variants_assign_run(run, now=now)
        CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.SENDING)
        run.status = CampaignRun.Status.SENDING
        transaction.on_commit(lambda: _enqueue_sending(run.pk))
    return run


def _run_extras(run: CampaignRun, *, contact_ids: list[int] | None = None) -> None:
    """Referral codes and coupons for the contacts who will be emailed."""
    if run.campaign.kind == Campaign.Kind.REFERRAL:
        queued = run.messages.filter(status=Message.Status.QUEUED)
        if contact_ids is not None:
            queued = queued.filter(contact_id__in=contact_ids)
        referral_codes_ensure(list(queued.values_list("contact_id", flat=True)))
    coupons_issue_for_run(run)


def _enqueue_sending(run_id: int) -> None:
    from .tasks import run_sending_enqueue  # tasks import the trigger services: not at the top

    run_sending_enqueue(run_id)


def _messages_create(run: CampaignRun, contacts, *, held_out: int, not_before: dt.datetime,
                     now: dt.datetime) -> int:
    """One INSERT ... SELECT: every audience contact a row, `held_out` of them (drawn at
    random) as HELD_OUT."""
    try:
        audience_sql, audience_params = (contacts.order_by().values("id", "email")
                                         .query.sql_with_params())
    except EmptyResultSet:  # criteria no contact can meet (e.g. an empty list of stages)
        return 0
    message_id = "'<' || %s || CAST(a.id AS TEXT) || %s"
    table = Message._meta.db_table
    sql = f"""
        INSERT INTO {table} (run_id, campaign_id, contact_id, status, message_id, to_email,
                             not_before, attempts, created_at, last_error)
        SELECT %s, %s, a.id,
               CASE WHEN a.draw <= %s THEN %s ELSE %s END,
               {message_id}, a.email, %s, 0, %s, ''
        FROM (SELECT c.id, c.email, ROW_NUMBER() OVER (ORDER BY RANDOM()) AS draw
              FROM ({audience_sql}) c) a
    """
    token = secrets.token_hex(6)
    params = [run.pk, run.campaign_id, held_out, Message.Status.HELD_OUT, Message.Status.QUEUED,
              f"{run.pk}.", f".{token}@{_message_id_domain()}>", not_before, now,
              *audience_params]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def campaign_event(*, contact_id: int, event: str, event_kind: str = "",
                   now: dt.datetime | None = None) -> int:
    """A contact did something (first purchase, a website action of `event_kind`, ...): queue
    the matching event campaigns.

    Event messages of one campaign and day share a run; a contact gets a campaign's event
    email once, ever. Returns the number of messages written (held-out rows included).
    """
    now = now or timezone.now()
    purchase_count = (Contact.objects.filter(pk=contact_id)
                      .values_list("purchase_count", flat=True).first())
    if purchase_count is None:
        return 0
    campaigns = Campaign.objects.filter(is_active=True, trigger=Campaign.Trigger.EVENT,
                                        event=event)
    if event == Campaign.Event.NTH_PURCHASE:
        campaigns = campaigns.filter(event_purchase_number=purchase_count)
    if event == Campaign.Event.WEBSITE_EVENT:
        campaigns = campaigns.filter(event_kind=event_kind)
    return sum(_event_message(campaign, contact_id, now) for campaign in campaigns
               if sendable(campaign))


def sendable(campaign: Campaign) -> bool:
    """An event campaign saved before its template needed more than it gives (or saved in
    code, around the form) is skipped, said in the log, rather than sending blanks."""
    try:
        campaign_check_sendable(campaign)
    except ValidationError as problem:
        logger.warning("Event campaign %s not sent: %s", campaign.pk, " ".join(problem.messages))
        return False
    return True


def _event_message(campaign: Campaign, contact_id: int, now: dt.datetime) -> int:
    return event_messages_write(campaign, [contact_id], now=now)


def event_messages_write(campaign: Campaign, contact_ids: list[int], *,
                         now: dt.datetime, key: str = "event", once_ever: bool = True) -> int:
    """Queue an event campaign's email for these contacts (one purchase or an import's chunk):
    the day's event run, the audience, "once, ever" per contact, each contact held out with the
    campaign's probability. Returns rows written, held-out ones included. A journey
    enrolls the contacts instead (campaigns.journeys) and returns the enrollments written.

    `once_ever=False` (reorder reminders, which keep their own once-per-product record:
    campaigns.reorder) leaves out only contacts already in the day's run of this `key`."""
    run_key = f"{key}:{timezone.localdate(now).isoformat()}"
    if is_journey(campaign):  # the contacts enter the journey; its steps send
        return journey_event_enroll(campaign, contact_ids, now=now,
                                    key="" if once_ever else run_key)
    with transaction.atomic():
        # The campaign row lock serialises writers: "once, ever" holds under concurrency.
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        contacts = (audience_contacts(AudienceCriteria.for_campaign(campaign), now=now)
                    .filter(pk__in=contact_ids))
        if once_ever:
            contacts = contacts.exclude(messages__campaign=campaign)
        else:
            contacts = contacts.filter(~Exists(Message.objects.filter(
                contact=OuterRef("pk"), run__campaign=campaign, run__key=run_key)))
        eligible = contacts.count()
        if not eligible:
            return 0
        run, _created = CampaignRun.objects.get_or_create(
            campaign=campaign, key=run_key,
            defaults={"status": CampaignRun.Status.SENDING, "started_at": now})
        # As many held out as one draw per contact gives (a binomial count), placed at random.
        held_out = sum(secrets.randbelow(100) < campaign.holdout_percent
                       for _contact in range(eligible))
        written = _messages_create(run, contacts, held_out=held_out, now=now,
                                   not_before=now + dt.timedelta(days=campaign.delay_days))
        _run_extras(run, contact_ids=contact_ids)
        variants_assign_stream(run, contact_ids, now=now)
        if run.status != CampaignRun.Status.SENDING:
            CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.SENDING,
                                                         finished_at=None)
        if not campaign.delay_days:
            transaction.on_commit(lambda: _enqueue_sending(run.pk))
    return written


def purchase_events(*, contact_id: int) -> list[str]:
    """The lifecycle events a new purchase just caused for this contact."""
    count = Contact.objects.filter(pk=contact_id).values_list("purchase_count", flat=True).first()
    events: list[str] = []
    if count == 1:
        events.append(Campaign.Event.FIRST_PURCHASE)
    if count == 2:
        events.append(Campaign.Event.BECAME_REPEAT)
    if count:
        events.append(Campaign.Event.NTH_PURCHASE)
    return events


# A missed daily at-risk check (a worker down over a weekend) is caught up by the next one, up
# to this far back; the first check ever looks back one day.
AT_RISK_CATCH_UP = dt.timedelta(days=30)
_AT_RISK_CHECK = "at-risk-check"  # its Heartbeat: when the last check completed


def contacts_fallen_at_risk(*, now: dt.datetime | None = None,
                            since: dt.datetime | None = None) -> list[int]:
    """Repeat clients who crossed the at-risk line (CRM_AT_RISK_MIN_DAYS of silence) after
    `since` (default: a day ago), looking back at most AT_RISK_CATCH_UP."""
    now = now or timezone.now()
    since = max(since or now - dt.timedelta(days=1), now - AT_RISK_CATCH_UP)
    silence = dt.timedelta(days=settings.CRM_AT_RISK_MIN_DAYS)
    return list(Contact.objects.repeat_clients()
                .filter(last_purchase_at__lte=now - silence, last_purchase_at__gt=since - silence)
                .values_list("pk", flat=True))


def at_risk_check_last() -> dt.datetime | None:
    """When the daily at-risk check last completed (None before the first)."""
    return Heartbeat.objects.filter(name=_AT_RISK_CHECK).values_list(
        "beaten_at", flat=True).first()


def at_risk_check_done(at: dt.datetime) -> None:
    Heartbeat.objects.update_or_create(name=_AT_RISK_CHECK, defaults={"beaten_at": at})
