"""Satisfaction surveys: who was asked (SurveyInvite, one per outbox Message), what they
answered (SurveyResponse, one per invite), and who gets no promotions for a while
(PromotionPause, set by a detractor's answer)."""
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from campaigns.models import Message
from customers.models import Contact, FollowUp, Purchase

from .nps import MAX_SCORE, MIN_SCORE, Category, category


class SurveyInvite(models.Model):
    """One survey email: the outbox row that carries it and the purchase that prompted it.

    The links in the email are signed with this row's id, so an answer can only ever belong to
    the contact it was sent to."""

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="survey_invites", db_index=False)
    purchase = models.ForeignKey(Purchase, verbose_name=_("purchase"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    message = models.OneToOneField(Message, verbose_name=_("email"), on_delete=models.CASCADE,
                                   related_name="survey_invite")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("survey invitation")
        verbose_name_plural = _("survey invitations")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["contact", "created_at"], name="survey_invite_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} · {self.created_at:%Y-%m-%d}"


class SurveyResponse(models.Model):
    """A contact's answer to one survey email; clicking another score updates this row."""

    invite = models.OneToOneField(SurveyInvite, verbose_name=_("survey invitation"),
                                  on_delete=models.CASCADE, related_name="response")
    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="survey_responses", db_index=False)
    purchase = models.ForeignKey(Purchase, verbose_name=_("purchase"), null=True, blank=True,
                                 on_delete=models.SET_NULL, related_name="+")
    score = models.PositiveSmallIntegerField(_("score"))
    comment = models.TextField(_("comment"), max_length=2000, blank=True)
    language = models.CharField(_("language"), max_length=8, blank=True)
    follow_up = models.OneToOneField(FollowUp, verbose_name=_("follow-up task"), null=True,
                                     blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("answered at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("survey response")
        verbose_name_plural = _("survey responses")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(score__gte=MIN_SCORE, score__lte=MAX_SCORE),
                                   name="survey_score_0_to_10"),
        ]
        indexes = [
            models.Index(fields=["created_at"], name="survey_response_created_idx"),
            models.Index(fields=["contact", "-created_at"], name="survey_response_contact_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id}: {self.score}"

    @property
    def category(self) -> Category:
        return category(self.score)

    def get_category_display(self) -> str:
        return CATEGORY_LABELS[self.category]


CATEGORY_LABELS = {
    Category.PROMOTER: _("Promoter"),
    Category.PASSIVE: _("Passive"),
    Category.DETRACTOR: _("Detractor"),
}


class PromotionPause(models.Model):
    """No promotional email to this contact until `paused_until` (an unhappy answer, "not
    interested" on a call, or a manager's decision).

    campaigns.outbox and campaigns.audience read it through feedback.selectors; the survey
    email itself is not promotional and is never paused."""

    contact = models.OneToOneField(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                   related_name="promotion_pause")
    class Reason(models.TextChoices):
        UNHAPPY_ANSWER = "unhappy_answer", _("Unhappy survey answer")
        NOT_INTERESTED = "not_interested", _("Not interested (call)")
        MANAGER = "manager", _("Paused by a manager")

    paused_until = models.DateTimeField(_("paused until"))
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices,
                              default=Reason.UNHAPPY_ANSWER)
    response = models.ForeignKey(SurveyResponse, verbose_name=_("because of"), null=True,
                                 blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("promotion pause")
        verbose_name_plural = _("promotion pauses")
        ordering = ["-paused_until"]
        indexes = [models.Index(fields=["paused_until"], name="promotion_pause_until_idx")]

    def __str__(self) -> str:
        return f"{self.contact_id} → {self.paused_until:%Y-%m-%d}"
