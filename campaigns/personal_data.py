"""What campaigns/ holds about a person, for export and erasure (see crm/personal_data.py).

Outbox rows, coupons and referrals stay: the uplift, coupon and referral figures count them.
"""
from crm.personal_data import Custom, Delete, Keep, Person, Replace, Section

from django.db.models import Q

from .models import (
    CampaignMember,
    Coupon,
    EmailServiceEvent,
    JourneyEnrollment,
    LinkClick,
    Message,
    Referral,
    ReferralCode,
    ReorderReminder,
    Suppression,
)


def _suppressions(person: Person):
    # A second erasure keeps the placeholder address's own entry (it keeps the shell unsent).
    return Suppression.objects.filter(email__iexact=person.email).exclude(
        email=person.erased_email)


def _service_events(person: Person):
    """An email service's events about the person's emails, or naming their address."""
    return EmailServiceEvent.objects.filter(
        Q(message__contact=person.contact) | Q(recipient__iexact=person.email))


def _journeys_end(person: Person) -> int:
    """The person leaves every journey they are in (STOPPED), their queued journey emails
    are cancelled: nothing more is written or sent for them. The rows stay (the journeys'
    funnels and uplift count them) and name nobody: a campaign, dates, a status."""
    from .journeys import contact_erased_end  # journeys builds on services and the outbox

    return contact_erased_end(person.contact.pk)


SECTIONS = (
    Section(
        name="messages", model=Message, by="contact", order_by=("created_at", "id"),
        columns=(("id", "id"), ("campaign", "campaign__name"), ("status", "status"),
                 ("to_email", "to_email"), ("sent_at", "sent_at"),
                 ("created_at", "created_at")),
        # The rows are the outbox record and the uplift figures count them. last_error too:
        # a server's refusal usually quotes the address.
        erase=Replace({"to_email": "", "last_error": ""}),
        kept=("message_id", "provider_message_id"),  # random ids: ours, the service's
    ),
    Section(
        name="link_clicks", model=LinkClick, by="contact", order_by=("clicked_at", "id"),
        columns=(("kind", "kind"), ("link", "url"), ("clicked_at", "clicked_at"),
                 ("message", "message_id")),
        # Kept for the campaigns' click rates; the link goes (it may carry personal data).
        erase=Replace({"url": ""}), kept=("url_hash",),
    ),
    Section(
        name="email_service_events", model=EmailServiceEvent, rows=_service_events,
        columns=(("service", "service"), ("event", "event_type"),
                 ("occurred_at", "occurred_at"), ("outcome", "outcome")),
        # Kept for the bounce and complaint figures; the address and the server's words go.
        erase=Replace({"recipient": "", "detail": ""}),
        kept=("service", "event_id", "event_type", "provider_message_id"),
    ),
    Section(
        name="coupons", model=Coupon, by="contact", order_by=("created_at", "id"),
        columns=(("code", "code"), ("campaign", "campaign__name"), ("purpose", "purpose"),
                 ("kind", "kind"), ("value", "value"), ("currency", "currency"),
                 ("expires_at", "expires_at"), ("redeemed_at", "redeemed_at")),
        erase=Keep(), kept=("code", "currency"),  # random codes; redemptions are figures
    ),
    Section(
        name="referral_code", model=ReferralCode, by="contact",
        columns=(("code", "code"), ("created_at", "created_at")),
        erase=Delete(), count_key="referral_codes_deleted",
    ),
    # Only this contact's side of a referral: the other person is someone else's data.
    Section(
        name="referrals_made", model=Referral, by="referrer", order_by=("created_at", "id"),
        columns=(("id", "id"), ("created_at", "created_at"), ("reward_coupon", "reward__code")),
        erase=Keep(),  # ids and dates: the referral figures
    ),
    Section(
        name="referred_by", model=Referral, by="referee",
        columns=(("id", "id"), ("created_at", "created_at")),
        erase=Keep(),
    ),
    Section(
        name="campaign_lists", model=CampaignMember, by="contact", order_by=("added_at", "id"),
        columns=(("campaign", "campaign__name"), ("added_at", "added_at")),
        erase=Delete(), count_key="campaign_members_deleted",  # no figure counts them
    ),
    Section(
        name="reorder_reminders", model=ReorderReminder, by="contact",
        order_by=("created_at", "id"),
        columns=(("campaign", "campaign__name"), ("product", "product__name"),
                 ("last_purchased_on", "last_purchased_on"), ("created_at", "created_at")),
        # What they were reminded of: the outbox row stays (above), this link does not.
        erase=Delete(), count_key="reorder_reminders_deleted",
    ),
    Section(
        name="journeys", model=JourneyEnrollment, by="contact", order_by=("started_at", "id"),
        columns=(("campaign", "campaign__name"), ("status", "status"), ("held_out", "held_out"),
                 ("next_step", "next_position"), ("started_at", "started_at"),
                 ("ended_at", "ended_at")),
        erase=Custom(_journeys_end, fields=()), count_key="journeys_ended",
        kept=("key",),  # "" or a year or a run's id: what made the entry unique
    ),
    Section(
        # The old address leaves the list too: keeping it would keep the personal data. The
        # erasure suppresses the placeholder address instead.
        name="suppression", model=Suppression, rows=_suppressions,
        columns=(("email", "email"), ("reason", "reason"), ("created_at", "created_at")),
        erase=Delete(), count_key="suppressions_deleted",
    ),
)
