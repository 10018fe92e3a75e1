"""Survey writes: queue the day's survey emails, record answers and their consequences.

    surveys_queue()                                   # the daily task; safe to run twice
    survey_answer(invite=..., score=8, language="tr", comment="...")

Survey emails are outbox rows (campaigns.models.Message) of the "Satisfaction survey"
campaign, so consent, suppression, unsubscribe, the frequency cap and exactly-once sending
are checked by campaigns.outbox exactly as for any campaign email.
"""
import datetime as dt
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from campaigns.models import Campaign, CampaignRun, Message
from campaigns.rendering import new_message_id
from crm.shop import shop
from customers.followups import follow_up_add
from customers.models import Contact

from .defaults import SURVEY_CAMPAIGN_NAME
from .models import PromotionPause, SurveyInvite, SurveyResponse
from .nps import Category, category
from .selectors import survey_candidates

logger = logging.getLogger(__name__)


def survey_campaign() -> Campaign | None:
    """The campaign survey emails belong to (created by migration feedback 0002)."""
    return Campaign.objects.filter(name=SURVEY_CAMPAIGN_NAME).select_related("template").first()


# --- Queueing ---------------------------------------------------------------------------------

def surveys_queue(*, now: dt.datetime | None = None, historical: bool = False) -> int:
    """Write one survey email (outbox row + invitation) per contact due one; returns how many.

    Nothing happens while the survey campaign is inactive (the managers' off switch). The rows
    of one day share a run (key "survey:<day>"); the campaign row lock serialises concurrent
    calls and the selection skips contacts already asked, so a second run writes nothing.

    `historical` records invitations of the past (`now` then) as emailed back then: the rows
    are SENT at `now` and nothing is handed to the outbox, so loading a shop's history (the
    demo) emails nobody today.
    """
    now = now or timezone.now()
    campaign = survey_campaign()
    if campaign is None or not campaign.is_active:
        return 0
    with transaction.atomic():
        Campaign.objects.select_for_update().filter(pk=campaign.pk).exists()
        run = _day_run(campaign, now)
        # survey_purchase is annotated by survey_candidates, out of the type checker's sight.
        due = list(survey_candidates(now=now, run=run).values_list(  # type: ignore[misc]
            "pk", "email", "survey_purchase"))
        if not due:
            return 0
        sent = {"status": Message.Status.SENT, "sent_at": now} if historical else {}
        messages = Message.objects.bulk_create([
            Message(run=run, campaign=campaign, contact_id=contact_id, to_email=email,
                    message_id=new_message_id(), not_before=now, created_at=now, **sent)
            for contact_id, email, _purchase in due])
        purchases = {contact_id: purchase_id for contact_id, _email, purchase_id in due}
        SurveyInvite.objects.bulk_create([
            SurveyInvite(contact_id=m.contact_id, purchase_id=purchases[m.contact_id],
                         message=m, created_at=now) for m in messages])
        if historical:
            CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.DONE,
                                                         finished_at=now)
        else:
            transaction.on_commit(lambda: _enqueue_sending(run.pk))
    return len(messages)


def _day_run(campaign: Campaign, now: dt.datetime) -> CampaignRun:
    run, _created = CampaignRun.objects.get_or_create(
        campaign=campaign, key=f"survey:{timezone.localdate(now).isoformat()}",
        defaults={"status": CampaignRun.Status.SENDING, "started_at": now})
    if run.status != CampaignRun.Status.SENDING:  # drained earlier today: sendable again
        CampaignRun.objects.filter(pk=run.pk).update(status=CampaignRun.Status.SENDING,
                                                     finished_at=None)
    return run


def _enqueue_sending(run_id: int) -> None:
    from campaigns.tasks import run_sending_enqueue  # tasks import services: not at the top

    run_sending_enqueue(run_id)


# --- Answers ----------------------------------------------------------------------------------

def survey_answer(*, invite: SurveyInvite, score: int, language: str = "",
                  comment: str | None = None, now: dt.datetime | None = None) -> SurveyResponse:
    """Record (or change) the answer to one survey email; `comment=None` keeps the comment.

    A detractor answer (0-6) creates a call-back task for the contact's owner (once per
    response) and pauses promotional email; see _detractor_consequences.
    """
    now = now or timezone.now()
    category(score)  # ValueError outside 0..10, before anything is written
    with transaction.atomic():
        response = _response_for_update(invite, score=score, now=now)
        response.score, response.language = score, language[:8]
        if comment is not None:
            response.comment = comment.strip()[:2000]
        response.save()
        if category(score) == Category.DETRACTOR:
            _detractor_consequences(response, now)
    return response


def _response_for_update(invite: SurveyInvite, *, score: int, now: dt.datetime) -> SurveyResponse:
    """The invitation's response, locked; created on the first answer (two racing first
    clicks: the loser reads the winner's row)."""
    response = SurveyResponse.objects.select_for_update().filter(invite=invite).first()
    if response is not None:
        return response
    try:
        with transaction.atomic():
            return SurveyResponse.objects.create(
                invite=invite, contact_id=invite.contact_id, purchase_id=invite.purchase_id,
                score=score, created_at=now)
    except IntegrityError:
        return SurveyResponse.objects.select_for_update().get(invite=invite)


def _detractor_consequences(response: SurveyResponse, now: dt.datetime) -> None:
    """A call-back task for the owner (none when the contact has no owner: the admin's
    "needs a call-back" filter lists those) and no promotions for CRM_DETRACTOR_PAUSE_DAYS."""
    contact = Contact.objects.select_related("owner").get(pk=response.contact_id)
    if response.follow_up_id is None and contact.owner is not None:
        response.follow_up = _call_back_task(contact, response.score, now)
        response.save(update_fields=["follow_up"])
    promotions_pause(contact=contact, until=now + dt.timedelta(
        days=settings.CRM_DETRACTOR_PAUSE_DAYS), response=response)


def _call_back_task(contact: Contact, score: int, now: dt.datetime):
    assert contact.owner is not None  # the caller gives call-backs to owned contacts only
    # The task is read by the owner, so it is written in the owner's language, not the
    # customer's (which is active while the customer's answer is being recorded).
    with translation.override(contact.owner.language or shop().default_language):
        title = _("Call back: unhappy (score %(score)d)") % {"score": score}
    return follow_up_add(contact=contact, assigned_to=contact.owner, title=title,
                         due_on=timezone.localdate(now) + dt.timedelta(days=1))


# --- Promotion pauses: set by a detractor's answer, or by a manager in the admin ----------------

def promotions_pause(*, contact: Contact, until: dt.datetime,
                     reason: str = PromotionPause.Reason.UNHAPPY_ANSWER,
                     response: SurveyResponse | None = None) -> PromotionPause:
    """No promotional email to the contact before `until`, for `reason`; an existing longer
    pause stays (with its reason), a shorter one is extended and takes this reason."""
    with transaction.atomic():  # the row lock needs a transaction, whichever door calls
        pause, created = PromotionPause.objects.select_for_update().get_or_create(
            contact=contact, defaults={"paused_until": until, "response": response,
                                       "reason": reason})
        if not created and pause.paused_until < until:
            pause.paused_until, pause.response, pause.reason = until, response, reason
            pause.save(update_fields=["paused_until", "response", "reason"])
    return pause


def promotions_pause_change(*, pause: PromotionPause, until: dt.datetime) -> PromotionPause:
    """A manager's decision: the pause ends at `until`, earlier or later than it did. The
    answer that caused it stays recorded; a past `until` lifts the pause at once."""
    with transaction.atomic():
        locked = PromotionPause.objects.select_for_update().get(pk=pause.pk)
        locked.paused_until = until
        locked.save(update_fields=["paused_until"])
    return locked


def promotions_resume(*, pauses: QuerySet) -> int:
    """Lift the pauses: promotional email may reach these contacts again. Returns how many."""
    deleted, _per_model = pauses.delete()
    return deleted
