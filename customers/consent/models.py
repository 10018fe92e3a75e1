"""The consent ledger (moved from privacy, issue #16): the texts people agree to and the
append-only record of every giving or withdrawal of consent.

The models belong to the customers app (app label customers, registered by customers.models);
their tables keep the names privacy gave them. Neither holds personal data of the contact beyond
the link to it, so both survive an erasure and can be shown to an auditor.
"""
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ConsentPurpose(models.TextChoices):
    """What a person agrees to: marketing email for now; SMS or profiling would be new ones."""

    MARKETING_EMAIL = "marketing_email", _("Marketing email")


class ConsentWordingQuerySet(models.QuerySet):
    def published(self, at=None):
        return self.filter(published_at__lte=at or timezone.now())

    def current(self, *, purpose: str, language: str, at=None):
        """The wording shown now for (purpose, language): the latest published version."""
        return (self.published(at).filter(purpose=purpose, language=language)
                .order_by("-published_at", "-id").first())


class ConsentWording(models.Model):
    """The exact text a person agreed to, per purpose, language and version.

    Immutable once a ConsentRecord uses it: the ledger must show what was really shown, so a
    changed text is a new version (the admin makes a used wording read-only, save() refuses).
    """

    purpose = models.CharField(_("purpose"), max_length=32, choices=ConsentPurpose.choices,
                               default=ConsentPurpose.MARKETING_EMAIL)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES)
    version = models.CharField(_("version"), max_length=32,
                               help_text=_("A short label, e.g. 2026-12 or 2."))
    text = models.TextField(_("text"), help_text=_("The exact wording shown to the person."))
    published_at = models.DateTimeField(
        _("published at"), default=timezone.now,
        help_text=_("From this time on, the latest published version is the current one."))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"),
                                   null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")

    objects = ConsentWordingQuerySet.as_manager()

    class Meta:
        verbose_name = _("consent wording")
        verbose_name_plural = _("consent wordings")
        db_table = "privacy_consentwording"  # made by privacy 0002 (the ledger moved, #16)
        ordering = ["purpose", "language", "-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["purpose", "language", "version"],
                                    name="consent_wording_version_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.get_purpose_display()} · {self.language} · {self.version}"

    def save(self, *args, **kwargs) -> None:
        if self.is_used:
            raise ValidationError(_("This wording has been agreed to and cannot be changed; "
                                    "publish a new version instead."), code="wording_used")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.is_used:
            raise ValidationError(_("This wording has been agreed to and cannot be deleted."),
                                  code="wording_used")
        return super().delete(*args, **kwargs)

    @property
    def is_used(self) -> bool:
        return self.pk is not None and self.records.exists()


class ConsentMethod(models.TextChoices):
    """How consent was given or withdrawn."""

    STAFF_FORM = "staff_form", _("In person, recorded by staff")
    API = "api", _("API")
    CSV_IMPORT = "csv_import", _("CSV import")
    PUBLIC_FORM = "public_form", _("Form on the website or at checkout")
    UNSUBSCRIBE_LINK = "unsubscribe_link", _("Unsubscribe link")
    ONE_CLICK = "one_click", _("One-click unsubscribe (mail client)")
    SPAM_COMPLAINT = "spam_complaint", _("Marked as spam (mailbox provider's report)")
    REQUEST = "request", _("Request by email, phone or support")
    ERASURE = "erasure", _("Erasure of personal data")
    SHOP = "shop", _("In the connected online store (its own record)")


class ConsentRecord(models.Model):
    """One giving or withdrawal of consent. Append-only: never changed, never deleted.

    Minimal data (GDPR art. 5(1)(c), KVKK art. 4): no IP address, user agent or copy of the
    form; the time, the method, the wording and a short note are the evidence. The note must
    not hold personal data; erasure blanks it anyway.
    """

    contact = models.ForeignKey("customers.Contact", verbose_name=_("contact"),
                                on_delete=models.PROTECT, related_name="consent_records")
    given = models.BooleanField(_("consent given"))
    purpose = models.CharField(_("purpose"), max_length=32, choices=ConsentPurpose.choices,
                               default=ConsentPurpose.MARKETING_EMAIL)
    occurred_at = models.DateTimeField(_("when"), default=timezone.now)
    recorded_at = models.DateTimeField(_("recorded at"), default=timezone.now)
    method = models.CharField(_("how"), max_length=32, choices=ConsentMethod.choices)
    source = models.CharField(_("source"), max_length=64, blank=True,
                              help_text=_("E.g. the shop's name or the campaign."))
    # Withdrawals need no wording; every consent given names the text that was shown.
    wording = models.ForeignKey(ConsentWording, verbose_name=_("wording"), null=True,
                                blank=True, on_delete=models.PROTECT, related_name="records")
    language = models.CharField(_("language"), max_length=8, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("recorded by"),
                                    null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")
    evidence = models.CharField(_("evidence"), max_length=200, blank=True,
                                help_text=_("E.g. checkbox on the checkout page, order 1234."))

    class Meta:
        verbose_name = _("consent record")
        verbose_name_plural = _("consent records")
        db_table = "privacy_consentrecord"  # made by privacy 0002 (the ledger moved, #16)
        ordering = ["-occurred_at", "-id"]
        default_permissions = ("view",)  # written by customers.consent.services only
        constraints = [
            models.CheckConstraint(condition=Q(given=False) | Q(wording__isnull=False),
                                   name="consent_given_has_wording"),
        ]
        indexes = [models.Index(fields=["contact", "occurred_at"],
                                name="consent_contact_time_idx")]

    def __str__(self) -> str:
        verb = _("given") if self.given else _("withdrawn")
        return f"#{self.contact_id} · {verb} · {self.occurred_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise ValidationError(_("Consent records cannot be changed."), code="append_only")
        super().save(*args, **kwargs)
