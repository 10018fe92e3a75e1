"""Who a campaign is for: criteria stored as JSON on Campaign.audience, turned into one query.

    criteria = AudienceCriteria.from_json(campaign.audience)   # ValidationError per field
    audience_contacts(criteria)                                # one set-based QuerySet
    audience_size(criteria); audience_sample(criteria, size=20)

Every criterion is optional; set ones are combined with AND. Marketing email always needs
consent, and an address in Suppression is never in an audience, whatever the criteria say.
Criteria on purchase history (days since first or last purchase, total spent, purchase count)
leave prospects out when they need a purchase date. Score bands read the current scoring run
(customers.scoring.runs.current_run); a contact without a score there is left out when a band
is set, and with no current run at all nobody matches. A website action (activity.WebsiteEvent
of one kind) within the last N days is an EXISTS subquery; "and no purchase since" nests a
second one on counted purchases at or after that event. Products and categories bought (or
never bought) are EXISTS subqueries on counted purchase lines (campaigns.audience_products);
how contacts answer our emails (clicked lately, or got N emails and clicked none) are EXISTS
and count subqueries on their clicks and sent emails (campaigns.audience_clicks).
"""
import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from activity.models import EventKind, WebsiteEvent
from crm.numbers import percent
from crm.shop import shop
from customers.models import Contact, ContactScore, Purchase, Stage
from customers.scoring.runs import current_run

from . import audience_clicks, audience_products, hooks
from .models import CampaignMember, Suppression

_PROBABILITIES = ("p_buy_again", "p_alive")
_DAY_COUNTS = ("days_since_first", "days_since_last")
_RANGES = (*_PROBABILITIES, *_DAY_COUNTS, "total_spent", "purchase_count")
WEBSITE_ACTION_MAX_DAYS = 730  # events are kept (and accepted) for two years


@dataclass(frozen=True)
class AudienceCriteria:
    """All optional; None means "any". See the module docstring for how they combine."""

    stages: tuple[str, ...] | None = None
    at_risk: bool | None = None  # True: only at-risk repeat clients; False: leave them out
    nps_promoter: bool | None = None  # True: only contacts whose latest survey answer is 9-10
    nps_detractor: bool | None = None  # True: only latest answer 0-6; False: leave them out
    open_case: bool | None = None  # True: only contacts with an open support case; False: none
    p_buy_again_min: float | None = None
    p_buy_again_max: float | None = None
    p_alive_min: float | None = None
    p_alive_max: float | None = None
    days_since_first_min: int | None = None
    days_since_first_max: int | None = None
    days_since_last_min: int | None = None
    days_since_last_max: int | None = None
    total_spent_min: Decimal | None = None
    total_spent_max: Decimal | None = None
    purchase_count_min: int | None = None
    purchase_count_max: int | None = None
    owner_ids: tuple[int, ...] | None = None
    website_action: str | None = None  # an EventKind: did it within website_action_days
    website_action_days: int | None = None
    website_action_no_purchase_since: bool | None = None  # True: no purchase after the action
    # What was bought (campaigns.audience_products): products or categories, ever or lately.
    bought_product_ids: tuple[int, ...] | None = None
    bought_categories: tuple[str, ...] | None = None
    bought_within_days: int | None = None
    not_bought_categories: tuple[str, ...] | None = None
    # How they answer our emails (campaigns.audience_clicks).
    clicked_within_days: int | None = None
    no_click_after_emails: int | None = None
    consent_required: bool = True
    listed_only: bool | None = None  # True: only contacts added to the campaign by hand
    # Not a criterion: the campaign whose hand-added contacts (CampaignMember) join the
    # audience; set by for_campaign(), never read from JSON.
    campaign_id: int | None = None

    @classmethod
    def from_json(cls, data: object) -> "AudienceCriteria":
        """Validate stored or submitted criteria; every problem is reported under its field."""
        return _parse(data)

    @classmethod
    def for_campaign(cls, campaign) -> "AudienceCriteria":
        """The campaign's stored criteria, with the contacts added to it by hand."""
        return dataclasses.replace(cls.from_json(campaign.audience), campaign_id=campaign.pk)

    def to_json(self) -> dict:
        """The set criteria only, JSON-safe (money as a string, so it stays exact)."""
        data: dict = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None or (field.name == "consent_required" and value is True) \
                    or field.name == "campaign_id":
                continue
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Decimal):
                value = str(value)
            data[field.name] = value
        return data

    @property
    def uses_scores(self) -> bool:
        return any(getattr(self, f"{name}_{end}") is not None
                   for name in _PROBABILITIES for end in ("min", "max"))


# --- Validation -----------------------------------------------------------------------------

class _Errors(dict):
    def add(self, field: str, message: str, code: str) -> None:
        self.setdefault(field, []).append(ValidationError(message, code=code))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _parse_probability(name: str, value: object, errors: _Errors) -> float | None:
    if not _is_number(value) or not 0 <= value <= 1:
        errors.add(name, _("Enter a probability between 0 and 1."), "invalid_probability")
        return None
    return float(value)


def _parse_count(name: str, value: object, errors: _Errors) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        errors.add(name, _("Enter a whole number, 0 or more."), "invalid_count")
        return None
    return value


def _parse_money(name: str, value: object, errors: _Errors) -> Decimal | None:
    try:
        if not (_is_number(value) or isinstance(value, str)):
            raise InvalidOperation
        amount = Decimal(str(value).strip())
        if not amount.is_finite() or amount < 0:
            raise InvalidOperation
    except InvalidOperation:
        errors.add(name, _("Enter an amount, 0 or more."), "invalid_amount")
        return None
    return amount


def _parse_bool(name: str, value: object, errors: _Errors) -> bool | None:
    if not isinstance(value, bool):
        errors.add(name, _("Enter true or false."), "invalid_bool")
        return None
    return value


def _parse_stages(value: object, errors: _Errors) -> tuple[str, ...] | None:
    if not isinstance(value, list) or not value:
        errors.add("stages", _("Choose at least one stage, or leave stages out for all."),
                   "invalid_stages")
        return None
    unknown = [str(stage) for stage in value if stage not in Stage.values]
    if unknown:
        errors.add("stages", _("Unknown stage: %(stages)s. Choose from %(choices)s.") % {
            "stages": ", ".join(unknown), "choices": ", ".join(Stage.values)}, "unknown_stage")
        return None
    return tuple(dict.fromkeys(value))  # keep the order, drop repeats


def _parse_owner_ids(value: object, errors: _Errors) -> tuple[int, ...] | None:
    if (not isinstance(value, list) or not value
            or any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in value)):
        errors.add("owner_ids", _("Enter a non-empty list of user ids."), "invalid_owner_ids")
        return None
    return tuple(dict.fromkeys(value))


def _parse_website_action(name: str, value: object, errors: _Errors) -> str | None:
    if value not in EventKind.values:
        errors.add(name, _("Unknown website action. Choose from %(choices)s.") % {
            "choices": ", ".join(EventKind.values)}, "unknown_website_action")
        return None
    return value


def _parse_window(name: str, value: object, errors: _Errors) -> int | None:
    days = _parse_count(name, value, errors)
    if days is not None and not 1 <= days <= WEBSITE_ACTION_MAX_DAYS:
        errors.add(name, _("Enter a number of days from 1 to %(max)d.") % {
            "max": WEBSITE_ACTION_MAX_DAYS}, "invalid_window")
        return None
    return days


def _check_website_action(data: dict, errors: _Errors) -> None:
    """The window and "no purchase since" belong to an action; an action needs its window."""
    if data.get("website_action") is None:
        for name in ("website_action_days", "website_action_no_purchase_since"):
            if data.get(name) is not None:
                errors.add(name, _("Choose the website action too."), "needs_website_action")
    elif data.get("website_action_days") is None:
        errors.add("website_action_days", _("Enter within how many days."), "required")


def _parse_consent(value: object, errors: _Errors) -> bool:
    if value is not True:
        errors.add("consent_required", _("Marketing email always requires consent; this "
                                         "cannot be turned off."), "consent_required")
    return True


_PARSERS = {
    **{f"{name}_{end}": _parse_probability for name in _PROBABILITIES for end in ("min", "max")},
    **{f"{name}_{end}": _parse_count for name in (*_DAY_COUNTS, "purchase_count")
       for end in ("min", "max")},
    "total_spent_min": _parse_money, "total_spent_max": _parse_money,
    "at_risk": _parse_bool,
    "nps_promoter": _parse_bool,
    "nps_detractor": _parse_bool,
    "open_case": _parse_bool,
    "website_action": _parse_website_action,
    "website_action_days": _parse_window,
    "website_action_no_purchase_since": _parse_bool,
    "listed_only": _parse_bool,
    **audience_products.PARSERS,
    **audience_clicks.PARSERS,
}
_KNOWN = frozenset(field.name for field in dataclasses.fields(AudienceCriteria)
                   if field.name != "campaign_id")


def _parse(data: object) -> AudienceCriteria:
    if not isinstance(data, dict):
        raise ValidationError(_("Audience criteria must be a JSON object."), code="invalid")
    errors = _Errors()
    values: dict = {}
    for key in sorted(set(data) - _KNOWN, key=str):
        errors.add(str(key), _("Unknown criterion."), "unknown_key")
    for key, value in data.items():
        if key not in _KNOWN or value is None:
            continue
        if key == "stages":
            values[key] = _parse_stages(value, errors)
        elif key == "owner_ids":
            values[key] = _parse_owner_ids(value, errors)
        elif key == "consent_required":
            values[key] = _parse_consent(value, errors)
        else:
            values[key] = _PARSERS[key](key, value, errors)
    for name in _RANGES:
        low, high = values.get(f"{name}_min"), values.get(f"{name}_max")
        if low is not None and high is not None and low > high:
            errors.add(f"{name}_min", _("The minimum must not be above the maximum."),
                       "min_above_max")
    _check_website_action(data, errors)
    audience_products.check(data, errors)
    if errors:
        raise ValidationError(dict(errors))
    return AudienceCriteria(**values)


# --- The query ------------------------------------------------------------------------------

def _range(field: str, low, high) -> Q:
    q = Q()
    if low is not None:
        q &= Q(**{f"{field}__gte": low})
    if high is not None:
        q &= Q(**{f"{field}__lte": high})
    return q


def _days_ago_range(field: str, min_days: int | None, max_days: int | None, now) -> Q:
    """At least min_days and at most max_days ago, in whole days of 24 hours."""
    q = Q()
    if min_days is not None:
        q &= Q(**{f"{field}__lte": now - dt.timedelta(days=min_days)})
    if max_days is not None:
        q &= Q(**{f"{field}__gt": now - dt.timedelta(days=max_days + 1)})
    return q


def _at_risk_q(now: dt.datetime) -> Q:
    cutoff = now - dt.timedelta(days=settings.CRM_AT_RISK_MIN_DAYS)
    return Q(stage=Stage.REPEAT, last_purchase_at__lt=cutoff)  # as ContactQuerySet.at_risk


def _score_filter(criteria: AudienceCriteria) -> Q:
    run = current_run()
    if run is None:
        return Q(pk__in=[])
    band = Q()
    for name in _PROBABILITIES:
        band &= _range(name, getattr(criteria, f"{name}_min"), getattr(criteria, f"{name}_max"))
    scores = ContactScore.objects.filter(band, run=run, contact=OuterRef("pk"))
    return Q(Exists(scores))


def _not_suppressed() -> Q:
    # Both are stored normalised (lower case; a constraint on Suppression keeps it so): an
    # exact comparison, which the unique index on Suppression.email answers.
    return ~Q(Exists(Suppression.objects.filter(email=OuterRef("email"))))


def audience_filter(criteria: AudienceCriteria, *, now: dt.datetime | None = None) -> Q:
    """The criteria as one Q on Contact (for callers that combine it with their own filters)."""
    now = now or timezone.now()
    q = _not_suppressed()
    for allowed in hooks.audience_allowed.call(now):
        q &= allowed  # feedback: unhappy lately, no promotions for now
    if criteria.consent_required:
        q &= Q(marketing_consent=True)
    return q & _with_members(criteria, _criteria_filter(criteria, now))


def _with_members(criteria: AudienceCriteria, chosen: Q) -> Q:
    """The contacts the criteria choose plus those added to the campaign by hand (or, with
    listed_only, only those of the hand-added ones the other criteria choose too)."""
    members = CampaignMember.objects.filter(campaign_id=criteria.campaign_id)
    listed = Q(Exists(members.filter(contact=OuterRef("pk"))))
    if criteria.listed_only:
        return listed & chosen if criteria.campaign_id is not None else Q(pk__in=[])
    # Empty criteria choose everyone already; a campaign nobody was added to needs no OR.
    if not chosen or criteria.campaign_id is None or not members.exists():
        return chosen
    return chosen | listed


def _criteria_filter(criteria: AudienceCriteria, now: dt.datetime) -> Q:
    q = Q()
    if criteria.stages is not None:
        q &= Q(stage__in=criteria.stages)
    if criteria.at_risk is True:
        q &= _at_risk_q(now)
    elif criteria.at_risk is False:
        q &= ~_at_risk_q(now)
    q &= _days_ago_range("first_purchase_at", criteria.days_since_first_min,
                         criteria.days_since_first_max, now)
    q &= _days_ago_range("last_purchase_at", criteria.days_since_last_min,
                         criteria.days_since_last_max, now)
    q &= _range("total_spent", criteria.total_spent_min, criteria.total_spent_max)
    q &= _range("purchase_count", criteria.purchase_count_min, criteria.purchase_count_max)
    if criteria.owner_ids is not None:
        q &= Q(owner_id__in=criteria.owner_ids)
    q &= _other_apps_q(criteria)
    if criteria.website_action is not None:
        q &= Q(Exists(_website_actions(criteria, now)))
    q &= audience_products.products_q(criteria, now)
    q &= audience_clicks.clicks_q(criteria, now)
    if criteria.uses_scores:
        q &= _score_filter(criteria)
    return q


def _website_actions(criteria: AudienceCriteria, now: dt.datetime) -> QuerySet:
    """The contact's events of the chosen kind in the window (and, when asked, with no counted
    purchase at or after them), correlated on the outer contact."""
    events = WebsiteEvent.objects.filter(
        contact=OuterRef("pk"), kind=criteria.website_action,
        occurred_at__gte=now - dt.timedelta(days=criteria.website_action_days))
    if criteria.website_action_no_purchase_since:
        later = Purchase.objects.counted().filter(contact=OuterRef(OuterRef("pk")),
                                                  purchased_at__gte=OuterRef("occurred_at"))
        events = events.filter(~Exists(later))
    return events


def _other_apps_q(criteria: AudienceCriteria) -> Q:
    """Survey answers and support cases: those apps build on campaigns and give their criteria
    (nps_promoter, nps_detractor, open_case) meaning through campaigns.hooks."""
    q = Q()
    for part in hooks.audience_criteria.call(criteria):
        q &= part
    return q


def audience_contacts(criteria: AudienceCriteria, *, now: dt.datetime | None = None
                      ) -> QuerySet[Contact]:
    """Every contact the criteria select, as one query (no per-contact work in Python)."""
    return Contact.objects.filter(audience_filter(criteria, now=now))


def audience_size(criteria: AudienceCriteria, *, now: dt.datetime | None = None) -> int:
    return audience_contacts(criteria, now=now).order_by().count()


# --- Why each one is in ---------------------------------------------------------------------

def _percent(value: float) -> str:
    return percent(value)


def _days_ago(days: int) -> str:
    return ngettext("%(days)d day ago", "%(days)d days ago", days) % {"days": days}


def _reasons(contact: Contact, criteria: AudienceCriteria, now: dt.datetime) -> list[str]:
    """Short phrases for the criteria that picked this contact, most telling first."""
    reasons = [contact.get_stage_display().lower()] if contact.stage else []
    if criteria.nps_promoter:
        reasons.append(_("would recommend us (survey)"))
    if criteria.at_risk and contact.last_purchase_at:
        days = (now - contact.last_purchase_at).days
        reasons.append(ngettext("at risk: silent for %(days)d day",
                                "at risk: silent for %(days)d days", days) % {"days": days})
    if criteria.p_buy_again_min is not None or criteria.p_buy_again_max is not None:
        reasons.append(_("%(percent)s likely to buy again") % {
            "percent": _percent(contact.current_p_buy_again)})
    if criteria.p_alive_min is not None or criteria.p_alive_max is not None:
        reasons.append(_("%(percent)s likely still active") % {
            "percent": _percent(contact.current_p_alive)})
    if contact.last_purchase_at and (criteria.days_since_last_min is not None
                                     or criteria.days_since_last_max is not None):
        reasons.append(_("last purchase %(ago)s") % {
            "ago": _days_ago((now - contact.last_purchase_at).days)})
    if contact.first_purchase_at and (criteria.days_since_first_min is not None
                                      or criteria.days_since_first_max is not None):
        reasons.append(_("first purchase %(ago)s") % {
            "ago": _days_ago((now - contact.first_purchase_at).days)})
    if criteria.purchase_count_min is not None or criteria.purchase_count_max is not None:
        reasons.append(ngettext("%(count)d purchase", "%(count)d purchases",
                                contact.purchase_count) % {"count": contact.purchase_count})
    if criteria.total_spent_min is not None or criteria.total_spent_max is not None:
        reasons.append(_("spent %(amount)s %(currency)s") % {
            "amount": number_format(contact.total_spent, 2),
            "currency": shop().base_currency})
    if criteria.owner_ids is not None and contact.owner_id:
        reasons.append(_("owned by %(owner)s") % {"owner": contact.owner})
    if criteria.website_action is not None and contact.website_action_at:
        reasons.append(_("website action: %(action)s, %(ago)s") % {
            "action": EventKind(criteria.website_action).label,
            "ago": _days_ago((now - contact.website_action_at).days)})
        if criteria.website_action_no_purchase_since:
            reasons.append(_("no purchase since"))
    return reasons


def _with_website_action(contacts: QuerySet[Contact], criteria: AudienceCriteria,
                         now: dt.datetime) -> QuerySet[Contact]:
    """The latest matching action's time on each contact, for the reasons."""
    latest = (_website_actions(criteria, now).order_by("-occurred_at")
              .values("occurred_at")[:1])
    return contacts.annotate(website_action_at=Subquery(latest))


def _with_scores(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    run = current_run()
    scores = ContactScore.objects.filter(run=run, contact=OuterRef("pk"))
    return contacts.annotate(
        current_p_buy_again=Subquery(scores.values("p_buy_again")[:1]),
        current_p_alive=Subquery(scores.values("p_alive")[:1]),
    )


def audience_sample(criteria: AudienceCriteria, *, size: int = 20,
                    now: dt.datetime | None = None) -> list[tuple[Contact, list[str]]]:
    """A few random members with the reasons they are in, to check criteria before sending."""
    now = now or timezone.now()
    contacts = audience_contacts(criteria, now=now).select_related("owner").order_by("?")
    if criteria.uses_scores:
        contacts = _with_scores(contacts)
    if criteria.website_action is not None:
        contacts = _with_website_action(contacts, criteria, now)
    # The same for everyone: read once.
    bought = audience_products.reasons(criteria) + audience_clicks.reasons(criteria)
    return [(contact, _reasons(contact, criteria, now) + bought) for contact in contacts[:size]]
