import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from customers.models import Contact


class Priority(models.TextChoices):
    URGENT = "urgent", _("Urgent")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    LOW = "low", _("Low")


class ServiceTarget(models.Model):
    """Managers' targets per priority: first answer within, solved within (hours)."""

    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices,
                                unique=True)
    first_response_hours = models.PositiveIntegerField(_("first answer within (hours)"))
    resolution_hours = models.PositiveIntegerField(_("solved within (hours)"))

    class Meta:
        verbose_name = _("service target")
        verbose_name_plural = _("service targets")
        ordering = ["first_response_hours"]

    def __str__(self) -> str:
        return self.get_priority_display()


class Case(models.Model):
    class Status(models.TextChoices):
        NEW = "new", _("New")
        OPEN = "open", _("Open")
        WAITING = "waiting", _("Waiting on customer")
        SOLVED = "solved", _("Solved")

    class Channel(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        WEB = "web", _("Web form")
        IN_PERSON = "in_person", _("In person")

    contact = models.ForeignKey(Contact, verbose_name=_("contact"), on_delete=models.CASCADE,
                                related_name="cases")
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), max_length=10_000, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices,
                               default=Channel.PHONE)
    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices,
                                default=Priority.NORMAL)
    status = models.CharField(_("status"), max_length=8, choices=Status.choices,
                              default=Status.NEW)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("owner"), null=True,
                              blank=True, on_delete=models.SET_NULL, related_name="cases")
    created_at = models.DateTimeField(_("opened at"), default=timezone.now)
    first_response_at = models.DateTimeField(_("first answered at"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved at"), null=True, blank=True)
    # Due times are fixed when the case is opened (targets may change later).
    first_response_due = models.DateTimeField(_("first answer due"))
    resolution_due = models.DateTimeField(_("solution due"))
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    # Anyone can type any address into the public form: such a case is not the address owner's
    # until they confirm it through the signed link emailed to that address (support.tokens).
    # Until then staff pages flag it and the contact's timeline leaves it out.
    verified = models.BooleanField(
        _("confirmed by the address owner"), default=True,
        help_text=_("Off for a case sent from the public form until the owner of the email "
                    "address confirms it through the link emailed to them."))
    confirmation_sent_at = models.DateTimeField(_("confirmation link sent at"), null=True,
                                                blank=True)
    verified_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)
    # The Message-ID of the email that opened the case (inbound email only): our replies name
    # it in In-Reply-To/References so the customer's mail program threads them.
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True, default="")

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["owner", "resolution_due"], condition=~Q(status="solved"),
                         name="case_open_owner_due_idx"),
            models.Index(fields=["contact", "-created_at"], name="case_contact_idx"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.SOLVED

    def due_now(self) -> dt.datetime:
        """The next deadline: the first answer until there is one, then the solution."""
        return self.first_response_due if self.first_response_at is None else self.resolution_due

    def is_overdue(self, now: dt.datetime | None = None) -> bool:
        return self.is_open and self.due_now() < (now or timezone.now())


class CaseMessage(models.Model):
    """One message of a case's thread after its opening text (Case.description): a staff reply
    emailed to the customer, or the customer's emailed answer threaded back into the case."""

    class Direction(models.TextChoices):
        IN = "in", _("From the customer")
        OUT = "out", _("Our reply")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE,
                             related_name="messages")
    direction = models.CharField(_("direction"), max_length=3, choices=Direction.choices)
    body = models.TextField(_("message"), max_length=10_000)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("written by"), null=True,
                               blank=True, on_delete=models.SET_NULL, related_name="+")
    # Inbound: the From the email claimed. Anyone can write any From: it is shown, never used
    # to decide which case a message belongs to (the signed reply address decides).
    from_address = models.CharField(_("from"), max_length=254, blank=True, default="")
    sent_at = models.DateTimeField(_("sent at"), default=timezone.now)
    message_id = models.CharField(_("Message-ID"), max_length=250, blank=True, default="")
    # Outgoing: when the email was handed to the mail server (empty until then).
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case message")
        verbose_name_plural = _("case messages")
        ordering = ["sent_at", "id"]
        indexes = [
            models.Index(fields=["case", "sent_at"], name="casemessage_case_idx"),
            models.Index(fields=["message_id"], condition=Q(direction="out"),
                         name="casemessage_out_msgid_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.direction} {self.sent_at:%Y-%m-%d %H:%M}"


class AssignmentCursor(models.Model):
    """Round-robin state of a support queue: who was given the last case. Its row is locked
    while the next owner is chosen, so two cases arriving together go to two people."""

    queue = models.CharField(max_length=150, unique=True)
    last_user_id = models.BigIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("case assignment turn")
        verbose_name_plural = _("case assignment turns")

    def __str__(self) -> str:
        return self.queue
