"""The privacy audit log (who exported or erased which contact).

It holds no personal data of the contact beyond its id, so it survives an erasure and can be
shown to an auditor. PrivacyLog's Meta permissions are the gate for the privacy pages and admin
actions. (The consent ledger moved to customers.consent, issue #16.)
"""
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PrivacyLog(models.Model):
    """One export or erasure of one contact's personal data. Append-only."""

    class Action(models.TextChoices):
        EXPORT_JSON = "export_json", _("Export (JSON)")
        EXPORT_CSV = "export_csv", _("Export (CSV)")
        ERASE = "erase", _("Erasure")

    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    # The id, not a foreign key: the entry must outlive even a hard delete of the contact.
    contact_ref = models.BigIntegerField(_("contact id"))
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="+")
    actor_username = models.CharField(_("by (username)"), max_length=150, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    created_at = models.DateTimeField(_("at"), default=timezone.now)

    class Meta:
        verbose_name = _("privacy log entry")
        verbose_name_plural = _("privacy log")
        ordering = ["-created_at", "-id"]
        # Nobody adds, edits or deletes entries by hand.
        default_permissions = ("view",)
        permissions = [
            ("export_contact", _("Can export a contact's personal data")),
            ("erase_contact", _("Can erase a contact's personal data")),
        ]
        indexes = [models.Index(fields=["contact_ref", "-created_at"], name="privacy_log_contact_idx")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} · {self.get_action_display()} · #{self.contact_ref}"
