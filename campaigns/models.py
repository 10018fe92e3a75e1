"""Loyalty email campaigns: templates, campaigns and their runs, the outbox, coupons, referrals.

The outbox is the heart of sending: every (run, contact) becomes one row, under a unique
constraint, before anything is sent; workers claim rows and record each result. Held-out
contacts get a row too (status HELD_OUT, never sent) so uplift compares like with like.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower, Trim
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from activity.models import EventKind
from customers.models import Contact, Product, Purchase


class EmailTemplate(models.Model):
    """Subject, plain text and optional HTML in Django template syntax (see campaigns.rendering)."""

    name = models.CharField(_("name"), max_length=120, unique=True)
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("plain text"))
    body_html = models.TextField(_("HTML"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("email template")
        verbose_name_plural = _("email templates")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        # A template that does not compile or render would fail every message of a run: it is
        # refused when saved through any form or full_clean() (admin, API, commands).
        from .rendering import validate_template  # rendering builds on this module
        from .template_needs import template_campaign_problems

        validate_template(self)
        # A coupon or survey links added to a template its campaigns cannot fill.
        translations = list(self.translations.all()) if self.pk else []
        if problems := template_campaign_problems(self, [self, *translations]):
            raise ValidationError(problems, code="template_needs")


class EmailTemplateTranslation(models.Model):
    """The template's subject and bodies in one more language. The template itself is the
    shop's default language (settings.LANGUAGE_CODE); a contact whose language has no
    translation gets the template itself (campaigns.rendering.localized)."""

    # The unique constraint below leads with template, so it serves the FK's lookups too.
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"),
                                 on_delete=models.CASCADE, related_name="translations",
                                 db_index=False)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    subject = models.CharField(_("subject"), max_length=200)
    body_text = models.TextField(_("plain text"))
    body_html = models.TextField(_("HTML"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("translation")
        verbose_name_plural = _("translations")
        ordering = ["language"]
        constraints = [
            models.UniqueConstraint(fields=["template", "language"],
                                    name="email_template_translation_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.template_id}:{self.language}"

    def clean(self) -> None:
        from .rendering import validate_template  # rendering builds on this module
        from .template_needs import template_campaign_problems

        # The default language is the template itself; a second copy would never be used.
        if self.language == settings.LANGUAGE_CODE:
            raise ValidationError({"language": _(
                "The template itself is in the default language: choose another language.")},
                code="default_language")
        # Like the template's own: a broken translation would fail every message in its language.
        validate_template(self, language=self.language or None)
        # A coupon or survey links added in one language its template's campaigns cannot fill.
        if self.template_id and (problems := template_campaign_problems(
                self.template, [self.template, self])):
            raise ValidationError(problems, code="template_needs")


class Campaign(models.Model):
    class Kind(models.TextChoices):
        CONVERT = "convert", _("Convert one-time buyers")
        THANK = "thank", _("Thank and reward repeat clients")
        WIN_BACK = "win_back", _("Win back lapsing clients")
        REFERRAL = "referral", _("Ask for a referral")
        CUSTOM = "custom", _("Custom")

    class Trigger(models.TextChoices):
        MANUAL = "manual", _("When started")
        SCHEDULE = "schedule", _("On a schedule")
        EVENT = "event", _("After an event")

    class Event(models.TextChoices):
        FIRST_PURCHASE = "first_purchase", _("First purchase")
        BECAME_REPEAT = "became_repeat", _("Became a repeat client")
        NTH_PURCHASE = "nth_purchase", _("Reached the Nth purchase")
        FELL_AT_RISK = "fell_at_risk", _("Fell at risk")
        WEBSITE_EVENT = "website_event", _("After a website action")
        REORDER_DUE = "reorder_due", _("Time to reorder a product")
        # Daily: contacts whose first purchase was on this day of an earlier year
        # (campaigns.journeys.anniversaries_enroll).
        ANNIVERSARY = "anniversary", _("First-purchase anniversary")

    class CouponKind(models.TextChoices):
        NONE = "", _("No coupon")
        AMOUNT = "amount", _("Fixed amount off")
        PERCENT = "percent", _("Percent off")

    name = models.CharField(_("name"), max_length=120, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.CUSTOM)
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"),
                                 on_delete=models.PROTECT, related_name="campaigns")
    is_active = models.BooleanField(
        _("active"), default=False,
        help_text=_("Scheduled and event campaigns only send while active."))
    # Audience criteria, validated by campaigns.audience.AudienceCriteria (all optional).
    audience = models.JSONField(_("audience"), default=dict, blank=True)
    trigger = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices,
                               default=Trigger.MANUAL)
    event = models.CharField(_("event"), max_length=16, choices=Event.choices, blank=True)
    event_purchase_number = models.PositiveSmallIntegerField(
        _("purchase number"), null=True, blank=True,
        help_text=_("For 'Reached the Nth purchase': which purchase (e.g. 5)."))
    event_kind = models.CharField(
        _("website action"), max_length=24, choices=EventKind.choices, blank=True,
        help_text=_("For 'After a website action': which action, such as an abandoned cart."))
    delay_days = models.PositiveSmallIntegerField(
        _("delay (days)"), default=0, help_text=_("For events: send this many days after it."))
    schedule = models.OneToOneField(
        "django_celery_beat.PeriodicTask", verbose_name=_("schedule"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="campaign")
    holdout_percent = models.PositiveSmallIntegerField(
        _("holdout (%)"), default=10,
        help_text=_("This share of the audience is picked at random and not emailed, to "
                    "measure what the campaign really changed."))
    uplift_window_days = models.PositiveSmallIntegerField(
        _("uplift window (days)"), default=30,
        help_text=_("Purchases within this many days after sending count as a response."))
    coupon_kind = models.CharField(_("coupon"), max_length=8, choices=CouponKind.choices,
                                   blank=True, default=CouponKind.NONE)
    coupon_value = models.DecimalField(_("coupon value"), max_digits=12, decimal_places=2,
                                       null=True, blank=True)
    coupon_valid_days = models.PositiveSmallIntegerField(_("coupon valid for (days)"), default=30)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(holdout_percent__lte=90),
                                   name="campaign_holdout_at_most_90"),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignRun(models.Model):
    """One sending of a campaign: its audience fixed at build time, then the outbox drains."""

    class Status(models.TextChoices):
        BUILDING = "building", _("Building the audience")
        SENDING = "sending", _("Sending")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="runs")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.BUILDING)
    # For event and scheduled runs: what makes this run unique (e.g. "2026-12-01"), so a
    # trigger delivered twice cannot build two runs.
    key = models.CharField(_("key"), max_length=64)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("started by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("campaign run")
        verbose_name_plural = _("campaign runs")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="campaign_run_key_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.started_at:%Y-%m-%d %H:%M}"


class Message(models.Model):
    """The outbox: one row per (run, contact), created before anything is sent. Across runs, a
    contact has one emailed or held-out row of a campaign per uplift window
    (campaigns.services.campaign_reached): their group stays fixed while it is measured."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        SENDING = "sending", _("Sending")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed")
        BOUNCED = "bounced", _("Bounced")
        SUPPRESSED = "suppressed", _("Not sent: no consent, unsubscribed or bounced")
        CAPPED = "capped", _("Not sent: frequency cap")
        HELD_OUT = "held_out", _("Held out")
        UNKNOWN = "unknown", _("Unknown: the worker stopped while the server had it")
        # A subject or content test's later share: sent the winner once it is chosen
        # (campaigns.variants). Not final: the run stays open while rows wait.
        WAITING = "waiting", _("Waiting for the test's winner")
        # A journey's email whose contact left the journey (bought, unsubscribed) before it
        # went out (campaigns.journeys).
        CANCELLED = "cancelled", _("Not sent: left the journey")

    run = models.ForeignKey(CampaignRun, verbose_name=_("run"), on_delete=models.CASCADE,
                            related_name="messages")
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="messages")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="messages")
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.QUEUED)
    # Generated when the row is created, so a resend after a crash reuses the same id and the
    # receiving side (and our tests) can tell duplicates apart.
    message_id = models.CharField(_("Message-ID"), max_length=200, unique=True)
    to_email = models.EmailField(_("to"), max_length=254, blank=True)
    coupon = models.OneToOneField("Coupon", verbose_name=_("coupon"), null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="message")
    not_before = models.DateTimeField(_("send not before"), default=timezone.now)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the row became FAILED (failed for good): the managers' daily digest counts by it.
    failed_at = models.DateTimeField(_("failed at"), null=True, blank=True)
    # The email service's id for the email it accepted (CRM_EMAIL_SERVICE): its webhooks'
    # delivery, bounce and complaint events name it (campaigns.email_services).
    provider_message_id = models.CharField(_("email service's id"), max_length=200, blank=True,
                                           default="", db_default="")
    # When a spam complaint about this email arrived (a feedback report, an email service's
    # webhook): the complaint rate counts emails complained about, so an address suppressed
    # before (unsubscribed, say) that still marks us as spam is counted (campaigns.suppression).
    complained_at = models.DateTimeField(_("marked as spam at"), null=True, blank=True)
    # The email sent when it is not the campaign's own template: a journey step's or a test
    # variant's (Message.email_template). PROTECT: a template that was sent stays readable.
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"), null=True,
                                 blank=True, on_delete=models.PROTECT, related_name="+")
    variant = models.ForeignKey("ContentVariant", verbose_name=_("variant"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="messages")
    enrollment = models.ForeignKey("JourneyEnrollment", verbose_name=_("journey"), null=True,
                                   blank=True, on_delete=models.CASCADE,
                                   related_name="messages")
    step = models.ForeignKey("JourneyStep", verbose_name=_("journey step"), null=True,
                             blank=True, on_delete=models.PROTECT, related_name="messages")

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["run", "contact"], name="message_once_per_run"),
        ]
        indexes = [
            models.Index(fields=["status", "not_before"], name="message_due_idx"),
            models.Index(fields=["contact", "sent_at"], name="message_contact_sent_idx"),
            models.Index(fields=["run", "status"], name="message_run_status_idx"),
            models.Index(fields=["provider_message_id"], name="message_provider_id_idx",
                         condition=~Q(provider_message_id="")),
            models.Index(fields=["complained_at"], name="message_complained_idx",
                         condition=Q(complained_at__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.to_email or self.contact_id} · {self.get_status_display()}"

    @property
    def email_template(self) -> EmailTemplate:
        """What this row sends: its own template (a journey step's, a variant's), else the
        campaign's."""
        return self.template if self.template_id else self.campaign.template

    @property
    def email_template_id(self) -> int:
        return self.template_id or self.campaign.template_id


class Suppression(models.Model):
    """Addresses that must never get marketing email again, whatever the contact row says."""

    class Reason(models.TextChoices):
        UNSUBSCRIBED = "unsubscribed", _("Unsubscribed")
        BOUNCED = "bounced", _("Bounced")
        COMPLAINED = "complained", _("Marked as spam")
        ERASED = "erased", _("Erased on request")

    email = models.EmailField(_("email"), max_length=254, unique=True)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    detail = models.TextField(_("detail"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("suppressed address")
        verbose_name_plural = _("suppressed addresses")
        ordering = ["-created_at"]
        constraints = [
            # Stored as contacts' addresses are (trimmed, lower case: campaigns.suppression.
            # address_suppress), so an exact comparison finds it and `unique` is
            # case-insensitive. An address saved as typed was ignored at send time.
            models.CheckConstraint(condition=Q(email=Lower(Trim("email"))),
                                   name="suppression_email_normalised"),
        ]

    def __str__(self) -> str:
        return f"{self.email} ({self.get_reason_display()})"


class SendingPause(models.Model):
    """Sending stopped for every campaign until a manager resumes it (campaigns.sending_pause):
    no row leaves the outbox while one is active (campaigns.outbox.checks.sending_pause)."""

    class Reason(models.TextChoices):
        COMPLAINTS = "complaints", _("Spam complaints above the limit")

    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    complaints = models.PositiveIntegerField(_("complaints"), default=0)
    sent = models.PositiveIntegerField(_("emails sent"), default=0)
    started_at = models.DateTimeField(_("paused at"), default=timezone.now)
    ended_at = models.DateTimeField(_("resumed at"), null=True, blank=True)
    ended_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("resumed by"),
                                 null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")

    class Meta:
        verbose_name = _("sending pause")
        verbose_name_plural = _("sending pauses")
        ordering = ["-started_at"]
        constraints = [
            # Two complaint checks at once pause (and email the managers) once.
            models.UniqueConstraint(fields=["reason"], condition=Q(ended_at__isnull=True),
                                    name="sending_pause_one_active"),
        ]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} · {self.started_at:%Y-%m-%d %H:%M}"


class LinkClick(models.Model):
    """A contact following a link in a campaign email (or opening it, when open tracking is
    on): once per (message, link), the first time (campaigns.clicks). Scanners, prefetches,
    HEAD requests and known bots are not recorded."""

    class Kind(models.TextChoices):
        CLICK = "click", _("Click")
        OPEN = "open", _("Open")

    message = models.ForeignKey(Message, verbose_name=_("message"), on_delete=models.CASCADE,
                                related_name="clicks", db_index=False)
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="link_clicks", db_index=False)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices, default=Kind.CLICK)
    url = models.TextField(_("link"), blank=True)
    # sha256 of the link: the unique key (a link may be longer than an index allows).
    url_hash = models.CharField(max_length=64, editable=False)
    clicked_at = models.DateTimeField(_("clicked at"), default=timezone.now)

    class Meta:
        verbose_name = _("link click")
        verbose_name_plural = _("link clicks")
        ordering = ["-clicked_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "url_hash"], name="click_once_per_link"),
        ]
        indexes = [
            models.Index(fields=["contact", "clicked_at"], name="click_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.url}"


class EmailServiceEvent(models.Model):
    """One event an email service reported by webhook (delivered, bounced, complained,
    unsubscribed...), kept once per (service, event id) so that a replayed delivery changes
    nothing, with what it did (campaigns.email_services)."""

    class Outcome(models.TextChoices):
        APPLIED = "applied", _("Applied")
        NOTED = "noted", _("Noted (nothing to change)")
        UNKNOWN_MESSAGE = "unknown_message", _("Skipped: not an email we sent")

    service = models.CharField(_("email service"), max_length=32)
    event_id = models.CharField(_("event id"), max_length=200)
    event_type = models.CharField(_("event"), max_length=32)
    provider_message_id = models.CharField(_("email service's id"), max_length=200, blank=True)
    recipient = models.CharField(_("recipient"), max_length=254, blank=True)
    occurred_at = models.DateTimeField(_("occurred at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    message = models.ForeignKey(Message, verbose_name=_("message"), null=True, blank=True,
                                on_delete=models.SET_NULL, related_name="service_events")
    outcome = models.CharField(_("outcome"), max_length=16, choices=Outcome.choices)
    detail = models.TextField(_("detail"), blank=True)

    class Meta:
        verbose_name = _("email service event")
        verbose_name_plural = _("email service events")
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["service", "event_id"],
                                    name="service_event_once"),
        ]

    def __str__(self) -> str:
        return f"{self.service} {self.event_type} {self.recipient}"


class Coupon(models.Model):
    """A unique, single-use code for one contact: from a campaign or a referral reward."""

    class Kind(models.TextChoices):
        AMOUNT = "amount", _("Fixed amount off")
        PERCENT = "percent", _("Percent off")

    class Purpose(models.TextChoices):
        CAMPAIGN = "campaign", _("Campaign")
        REFERRAL_REWARD = "referral_reward", _("Referral reward")

    code = models.CharField(_("code"), max_length=32, unique=True)
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="coupons")
    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="coupons")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices,
                               default=Purpose.CAMPAIGN)
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3, blank=True,
                                help_text=_("For fixed amounts; empty for percentages."))
    expires_at = models.DateTimeField(_("expires at"))
    redeemed_at = models.DateTimeField(_("redeemed at"), null=True, blank=True)
    redeemed_purchase = models.OneToOneField(
        Purchase, verbose_name=_("redeemed with"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="redeemed_coupon")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("coupon")
        verbose_name_plural = _("coupons")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=Q(value__gt=0), name="coupon_value_positive"),
            models.CheckConstraint(condition=~Q(kind="percent") | Q(value__lte=100),
                                   name="coupon_percent_at_most_100"),
        ]

    def __str__(self) -> str:
        return self.code


class ReferralCode(models.Model):
    """A contact's personal code to pass on: a new buyer using it gets the referee discount."""

    contact = models.OneToOneField(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                   related_name="referral_code")
    code = models.CharField(_("code"), max_length=32, unique=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral code")
        verbose_name_plural = _("referral codes")

    def __str__(self) -> str:
        return self.code


class Referral(models.Model):
    """A new buyer's first purchase made with someone's referral code; rewarded once."""

    referrer = models.ForeignKey(Contact, verbose_name=_("referrer"), on_delete=models.CASCADE,
                                 related_name="referrals_made")
    # A contact can be referred only once, ever.
    referee = models.OneToOneField(Contact, verbose_name=_("referee"), on_delete=models.CASCADE,
                                   related_name="referred_by")
    purchase = models.OneToOneField(Purchase, verbose_name=_("first purchase"),
                                    on_delete=models.CASCADE, related_name="referral")
    reward = models.OneToOneField(Coupon, verbose_name=_("reward coupon"), null=True,
                                  blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("referral")
        verbose_name_plural = _("referrals")
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=~Q(referrer=models.F("referee")),
                                   name="referral_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.referrer_id} → {self.referee_id}"


class CampaignMember(models.Model):
    """A contact added to a campaign's audience by hand (the contact list's bulk action,
    campaigns.members). The audience is the contacts its criteria select plus these, or only
    these with the criterion listed_only; consent and suppression apply to them as to anyone."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="members")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="campaign_memberships")
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("added by"),
                                 null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    added_at = models.DateTimeField(_("added at"), default=timezone.now)

    class Meta:
        verbose_name = _("campaign member")
        verbose_name_plural = _("campaign members")
        constraints = [models.UniqueConstraint(fields=["campaign", "contact"],
                                               name="campaign_member_once")]

    def __str__(self) -> str:
        return f"{self.campaign} / {self.contact}"


class ReorderReminder(models.Model):
    """A "time to reorder" campaign's outbox row for one product (campaigns.reorder): at most
    one per (campaign, contact, product, the contact's last purchase day of it), so a
    reminder is not repeated until the product is bought again. Held-out rows have one too."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="+", db_index=False)  # the unique index leads
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="reorder_reminders")
    product = models.ForeignKey(Product, verbose_name=_("product"), on_delete=models.CASCADE,
                                related_name="+")
    last_purchased_on = models.DateField(_("last bought on"))
    message = models.OneToOneField(Message, verbose_name=_("message"), on_delete=models.CASCADE,
                                   related_name="reorder_reminder")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("reorder reminder")
        verbose_name_plural = _("reorder reminders")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact", "product", "last_purchased_on"],
                                    name="reorder_reminder_once"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} · {self.product_id} · {self.last_purchased_on}"


class JourneyStep(models.Model):
    """One step of a campaign that is a journey (campaigns.journeys): send an email, wait, or
    check a condition. A campaign with steps is a journey; its contacts move through the
    steps in `position` order, each one's place stored in a JourneyEnrollment."""

    class Kind(models.TextChoices):
        EMAIL = "email", _("Send an email")
        WAIT = "wait", _("Wait")
        CONDITION = "condition", _("Go on only if")

    class Condition(models.TextChoices):
        BOUGHT_SINCE = "bought_since", _("Bought since the journey started")
        CLICKED = "clicked", _("Clicked a link in this journey's emails")
        COUPON_USED = "coupon_used", _("Used this journey's coupon")
        STAGE = "stage", _("Is at one of these stages")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="steps", db_index=False)  # the unique index leads
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"), null=True,
                                 blank=True, on_delete=models.PROTECT,
                                 related_name="journey_steps")
    wait_days = models.PositiveSmallIntegerField(_("wait (days)"), default=0)
    condition = models.CharField(_("condition"), max_length=16, choices=Condition.choices,
                                 blank=True)
    # "Go on only if NOT ...": e.g. remind only who has not used the coupon.
    negate = models.BooleanField(_("only if not"), default=False)
    stages = models.JSONField(_("stages"), default=list, blank=True)

    class Meta:
        verbose_name = _("journey step")
        verbose_name_plural = _("journey steps")
        ordering = ["campaign", "position"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "position"],
                                    name="journey_step_position_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.position}. {self.get_kind_display()}"

    def clean(self) -> None:
        # A step that cannot do its work is refused when saved through a form or full_clean()
        # (the campaign page's steps); campaigns.journey_advance still copes with one saved
        # around it (the email fails visibly, the journey goes on).
        from .template_needs import step_problems  # template_needs builds on this module

        if problems := step_problems(self):
            raise ValidationError(problems, code="journey_step")


class JourneyEnrollment(models.Model):
    """A contact's place in a journey, stored so that it survives crashes and redeploys: the
    step to do next and when. Held-out contacts are enrolled too (held_out) and get nothing
    from any step, so the whole journey is measured against them."""

    class Status(models.TextChoices):
        ACTIVE = "active", _("In the journey")
        COMPLETED = "completed", _("Went through every step")
        CONVERTED = "converted", _("Left: bought")
        UNSUBSCRIBED = "unsubscribed", _("Left: no consent or unsubscribed")
        CONDITION = "condition", _("Left: a condition was not met")
        STOPPED = "stopped", _("Left: the journey was changed or stopped")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="enrollments", db_index=False)
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="journey_enrollments")
    # What makes this entry unique for the contact ("" for once ever; a year for an
    # anniversary), so a trigger delivered twice enrolls once.
    key = models.CharField(_("key"), max_length=32, blank=True, default="")
    held_out = models.BooleanField(_("held out"), default=False)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices,
                              default=Status.ACTIVE)
    next_position = models.PositiveSmallIntegerField(_("next step"), default=1)
    next_at = models.DateTimeField(_("next step due"), default=timezone.now)
    started_at = models.DateTimeField(_("started at"), default=timezone.now)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)

    class Meta:
        verbose_name = _("journey enrollment")
        verbose_name_plural = _("journey enrollments")
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "contact", "key"],
                                    name="journey_enrollment_once"),
        ]
        indexes = [
            models.Index(fields=["next_at"], name="journey_enrollment_due_idx",
                         condition=Q(status="active")),
        ]

    def __str__(self) -> str:
        return f"{self.campaign_id} · {self.contact_id} · {self.get_status_display()}"


class ContentVariant(models.Model):
    """One version (subject, content) in a campaign's or a journey step's test
    (campaigns.variants): a share of the audience gets the variants at random, the winner
    goes to the rest."""

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="variants")
    # None: the campaign's own email; else that journey step's.
    step = models.ForeignKey(JourneyStep, verbose_name=_("journey step"), null=True,
                             blank=True, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(_("label"), max_length=40)
    template = models.ForeignKey(EmailTemplate, verbose_name=_("template"),
                                 on_delete=models.PROTECT, related_name="variants")

    class Meta:
        verbose_name = _("variant")
        verbose_name_plural = _("variants")
        ordering = ["campaign", "step", "label"]
        constraints = [
            # Two partial indexes, not nulls_distinct (SQLite has no such option).
            models.UniqueConstraint(fields=["campaign", "label"], condition=Q(step__isnull=True),
                                    name="content_variant_label_unique"),
            models.UniqueConstraint(fields=["step", "label"], condition=Q(step__isnull=False),
                                    name="content_variant_step_label_unique"),
        ]

    def __str__(self) -> str:
        return self.label


class VariantTest(models.Model):
    """A campaign's (or journey step's) test of its variants: who takes part, what decides,
    and, once decided, the winner and the figures the decision was made on."""

    class Metric(models.TextChoices):
        PURCHASES = "purchases", _("Uplift in purchases")
        CLICKS = "clicks", _("Clicks")

    campaign = models.ForeignKey(Campaign, verbose_name=_("campaign"), on_delete=models.CASCADE,
                                 related_name="variant_tests")
    step = models.ForeignKey(JourneyStep, verbose_name=_("journey step"), null=True,
                             blank=True, on_delete=models.CASCADE, related_name="variant_tests")
    test_percent = models.PositiveSmallIntegerField(
        _("test share (%)"), default=20,
        help_text=_("This share of the audience gets the variants at random; the rest gets "
                    "the winner."))
    metric = models.CharField(_("decide by"), max_length=16, choices=Metric.choices,
                              default=Metric.PURCHASES)
    decide_after_hours = models.PositiveSmallIntegerField(_("decide after (hours)"), default=72)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    winner = models.ForeignKey(ContentVariant, verbose_name=_("winner"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="+")
    # The figures per variant the decision was made on, and why (campaigns.variants).
    result = models.JSONField(_("result"), default=dict, blank=True)

    class Meta:
        verbose_name = _("variant test")
        verbose_name_plural = _("variant tests")
        constraints = [
            models.UniqueConstraint(fields=["campaign"], condition=Q(step__isnull=True),
                                    name="variant_test_once"),
            models.UniqueConstraint(fields=["step"], condition=Q(step__isnull=False),
                                    name="variant_test_step_once"),
            models.CheckConstraint(condition=Q(test_percent__gte=1, test_percent__lte=100),
                                   name="variant_test_percent_range"),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · {self.get_metric_display()}"
