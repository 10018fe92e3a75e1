"""What a template needs from the campaign that sends it, and which campaigns can give it.

Most of a message's context is there for every contact (name, address, unsubscribe link, last
purchase or none). Three parts exist only where a campaign creates them:

* `coupon`: issued per message only by a campaign with a coupon kind and value
  (campaigns.coupons.coupons_issue_for_run);
* `referral_code`: ensured for every recipient only by a referral campaign
  (campaigns.services._run_extras);
* `survey`: the eleven signed score links, only for rows of the satisfaction-survey campaign,
  which feedback.services.surveys_queue writes together with their invitations.

* `reorder_product`: the product a reminder is about, only on rows of a "time to reorder"
  campaign (campaigns.reorder).

Two more are read from the contact's lines for every message, but only when a template uses
them (campaigns.rendering): `usual_products` and `also_bought` (customers.bought).

A template that uses one of them in a campaign that does not create it came out with blanks
("the code , valid until .") or without score links. So what a template uses is read from its
source (every part, every translation), and a campaign is refused, with the reason, when its
template needs something it cannot give (`campaign_template_problems`).
"""
import re
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.template.base import Lexer, TokenType
from django.utils.translation import gettext_lazy as _

from .defaults import SURVEY_CAMPAIGN_NAME
from .models import Campaign, EmailTemplate, EmailTemplateTranslation, JourneyStep

COUPON, REFERRAL_CODE, SURVEY = "coupon", "referral_code", "survey"
REORDER_PRODUCT = "reorder_product"
NEEDS = (COUPON, REFERRAL_CODE, SURVEY, REORDER_PRODUCT)
# Filled from the contact's purchase lines for any campaign, when a template uses them.
USUAL_PRODUCTS, ALSO_BOUGHT = "usual_products", "also_bought"
PRODUCT_VARIABLES = (USUAL_PRODUCTS, ALSO_BOUGHT)

# Quoted literals in a tag or variable ({% if coupon.kind == 'percent' %}, |default:'coupon')
# are text, not a use of the variable.
_QUOTED = re.compile(r"""'[^']*'|"[^"]*\"""")
_NAME = re.compile(r"(?<![\w.])(" + "|".join((*NEEDS, *PRODUCT_VARIABLES)) + r")\b")


def source_needs(source: str) -> frozenset[str]:
    """The campaign-made (and product) variables one part of a template refers to, in a {{ variable }} or
    a {% tag %} (plain text and {# comments #} do not count)."""
    found: set[str] = set()
    skipping = ""  # inside {% comment %} or {% verbatim %}: the tag that ends it
    for token in Lexer(source or "").tokenize():
        words = token.contents.split()
        if token.token_type == TokenType.BLOCK and words:
            if skipping:
                skipping = "" if words[0] == skipping else skipping
                continue
            if words[0] in ("comment", "verbatim"):
                skipping = f"end{words[0]}"
                continue
        if not skipping and token.token_type in (TokenType.VAR, TokenType.BLOCK):
            found.update(_NAME.findall(_QUOTED.sub("", token.contents)))
    return frozenset(found)


def parts_needs(parts: Iterable[EmailTemplate | EmailTemplateTranslation]) -> frozenset[str]:
    found: set[str] = set()
    for part in parts:
        for field in ("subject", "body_text", "body_html"):
            found |= source_needs(getattr(part, field))
    return frozenset(found)


def template_needs(template: EmailTemplate) -> frozenset[str]:
    """What the template, in any of its languages, needs from the campaign sending it."""
    translations = list(template.translations.all()) if template.pk else []
    return parts_needs([template, *translations])


def is_survey_campaign(campaign: Campaign) -> bool:
    """The shipped satisfaction-survey campaign: feedback finds it by this (unique) name."""
    return campaign.name == SURVEY_CAMPAIGN_NAME


def needs_problems(needs: frozenset[str], *, is_survey: bool, kind: str,
                   coupon_kind: str, event: str = "") -> list[str]:
    """Why a campaign of this kind and coupon cannot send a template with these needs."""
    problems = []
    if SURVEY in needs and not is_survey:
        problems.append(str(_(
            "This template contains survey links, which only the “%(survey)s” "
            "campaign creates: sent by another campaign it would have no links. Choose "
            "another template.") % {"survey": SURVEY_CAMPAIGN_NAME}))
    if COUPON in needs and not coupon_kind:
        problems.append(str(_(
            "This template shows a coupon: give the campaign a coupon (kind and value), or "
            "choose a template without one.")))
    if REFERRAL_CODE in needs and kind != Campaign.Kind.REFERRAL:
        problems.append(str(_(
            "This template shows the contact's referral code, which only a “%(kind)s” "
            "campaign creates: choose that kind, or another template.") % {
            "kind": Campaign.Kind.REFERRAL.label}))
    if REORDER_PRODUCT in needs and event != Campaign.Event.REORDER_DUE:
        problems.append(str(_(
            "This template names the product to reorder, which only a campaign started by "
            "“%(event)s” knows: choose that event, or another template.") % {
            "event": Campaign.Event.REORDER_DUE.label}))
    return problems


def _campaign_needs(campaign: Campaign) -> frozenset[str]:
    """What the campaign's emails need: its template's, and a journey's steps' templates'
    (a reminder step showing the coupon an earlier step issued needs the coupon too)."""
    needs = template_needs(campaign.template)
    if campaign.pk:
        for step in JourneyStep.objects.filter(campaign=campaign, template__isnull=False
                                               ).select_related("template"):
            needs |= template_needs(step.template)
    return needs


def campaign_template_problems(campaign: Campaign) -> list[str]:
    """Why this campaign cannot send its template (a journey its steps' templates, a test
    its variants'); empty when it can."""
    problems = needs_problems(_campaign_needs(campaign), is_survey=is_survey_campaign(campaign),
                              kind=campaign.kind, coupon_kind=campaign.coupon_kind,
                              event=campaign.event)
    return problems + campaign_variant_problems(campaign)


def campaign_variant_problems(campaign: Campaign) -> list[str]:
    """Why this campaign cannot send its test variants' templates (campaigns.variants)."""
    if not campaign.pk:
        return []
    problems = []
    for variant in campaign.variants.select_related("template"):
        for problem in needs_problems(template_needs(variant.template),
                                      is_survey=is_survey_campaign(campaign), kind=campaign.kind,
                                      coupon_kind=campaign.coupon_kind, event=campaign.event):
            problems.append(str(_("Variant “%(label)s”: %(problem)s") % {
                "label": variant.label, "problem": problem}))
    return problems


def step_problems(step: JourneyStep) -> dict[str, list[str]]:
    """Why a journey step, as about to be saved, cannot do its work: per field."""
    problems: dict[str, list[str]] = {}
    if step.kind == JourneyStep.Kind.EMAIL and step.template_id is None:
        problems["template"] = [str(_("An email step needs a template."))]
    if step.kind == JourneyStep.Kind.WAIT and not step.wait_days:
        problems["wait_days"] = [str(_("A wait lasts at least one day."))]
    if step.kind == JourneyStep.Kind.CONDITION:
        if not step.condition:
            problems["condition"] = [str(_("Choose the condition to check."))]
        elif step.condition == JourneyStep.Condition.STAGE and not step.stages:
            problems["stages"] = [str(_("Choose at least one stage."))]
    campaign = step.campaign if step.campaign_id else None
    if campaign is not None and (is_survey_campaign(campaign)
                                 or campaign.event == Campaign.Event.REORDER_DUE):
        # Their rows are written with what they are about (an invitation, a product).
        problems["kind"] = [str(_(
            "This campaign sends one email per survey or product to reorder: it cannot be a "
            "journey."))]
    if step.template_id and campaign is not None and "template" not in problems:
        found = needs_problems(template_needs(step.template), is_survey=False,
                               kind=campaign.kind, coupon_kind=campaign.coupon_kind,
                               event=campaign.event)
        if found:
            problems["template"] = found
    return problems


def template_campaign_problems(template: EmailTemplate,
                               parts: Iterable[EmailTemplate | EmailTemplateTranslation],
                               ) -> list[str]:
    """Editing a template can add a need its campaigns cannot meet: the reasons, per campaign.
    `parts` is the template and its translations as they are about to be saved."""
    if not template.pk:
        return []
    needs = parts_needs(parts)
    problems = []
    # The campaigns sending it: as their template, in a journey step, or as a test
    # variant's (campaigns.variants).
    campaigns = Campaign.objects.filter(
        Q(template=template) | Q(steps__template=template) | Q(variants__template=template)
    ).distinct().order_by("name")
    for campaign in campaigns:
        for problem in needs_problems(needs, is_survey=is_survey_campaign(campaign),
                                      kind=campaign.kind, coupon_kind=campaign.coupon_kind,
                                      event=campaign.event):
            problems.append(str(_("Campaign “%(campaign)s”: %(problem)s") % {
                "campaign": campaign.name, "problem": problem}))
    return problems



def campaign_check_sendable(campaign: Campaign) -> None:
    """ValidationError with the reasons this campaign cannot start a run, before anything is
    written: its template needs what it does not create, or it is the survey campaign, whose
    rows (each with its invitation, hence its links) only feedback.services.surveys_queue
    writes."""
    problems = campaign_template_problems(campaign)
    if is_survey_campaign(campaign):
        problems.insert(0, str(_(
            "The survey campaign is not started by hand or on a schedule: switch it on and "
            "each customer is asked a few days after a purchase.")))
    if problems:
        raise ValidationError(problems, code="campaign_not_sendable")
