"""Every write to cases: open, answer, change status, assign. Timestamps for the service
targets are set here, once, so first-response and resolution times are measured exactly."""
import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.models import Contact

from .models import Case, Priority, ServiceTarget

# Used when managers have not set a target for a priority (hours: first answer, solution).
DEFAULT_TARGETS = {Priority.URGENT: (1, 8), Priority.HIGH: (4, 24), Priority.NORMAL: (8, 72),
                   Priority.LOW: (24, 168)}


def _targets(priority: str) -> tuple[int, int]:
    target = ServiceTarget.objects.filter(priority=priority).first()
    if target is not None:
        return target.first_response_hours, target.resolution_hours
    return DEFAULT_TARGETS[priority]


def case_open(*, contact: Contact, subject: str, description: str = "", channel: str,
              priority: str = Priority.NORMAL, owner=None, now: dt.datetime | None = None) -> Case:
    subject = subject.strip()
    if not subject:
        raise ValidationError({"subject": _("Say in a few words what the case is about.")})
    now = now or timezone.now()
    first, solve = _targets(priority)
    return Case.objects.create(
        contact=contact, subject=subject, description=description.strip(), channel=channel,
        priority=priority, owner=owner, created_at=now,
        first_response_due=now + dt.timedelta(hours=first),
        resolution_due=now + dt.timedelta(hours=solve))


def case_set_status(*, case: Case, status: str, now: dt.datetime | None = None) -> Case:
    """Move a case; leaving "new" is the first answer, "solved" stops the clock."""
    now = now or timezone.now()
    if status not in Case.Status.values:
        raise ValidationError({"status": _("Unknown status.")})
    if status != Case.Status.NEW and case.first_response_at is None:
        case.first_response_at = now
    case.solved_at = now if status == Case.Status.SOLVED else None
    case.status = status
    case.save(update_fields=["status", "first_response_at", "solved_at", "updated_at"])
    return case


def case_assign(*, case: Case, owner) -> Case:
    case.owner = owner
    case.save(update_fields=["owner", "updated_at"])
    return case
