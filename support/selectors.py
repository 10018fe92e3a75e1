import datetime as dt

from django.db.models import Case as When_, DateTimeField, Exists, F, OuterRef, Q, QuerySet, When
from django.db.models import Count, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from .models import Case
from .tokens import address_matches


def _with_next_deadline(cases: QuerySet) -> QuerySet:
    return cases.annotate(next_due=When_(
        When(first_response_at__isnull=True, then=F("first_response_due")),
        default=F("resolution_due"), output_field=DateTimeField()))


def open_cases(*, owner=None) -> QuerySet[Case]:
    """Open cases, overdue first, then the soonest deadline."""
    cases = Case.objects.exclude(status=Case.Status.SOLVED).select_related("contact", "owner")
    if owner is not None:
        cases = cases.filter(owner=owner)
    return _with_next_deadline(cases).order_by("next_due", "id")


def overdue_cases(*, owner=None, now: dt.datetime | None = None) -> QuerySet[Case]:
    # next_due is annotated by _with_next_deadline, out of the type checker's sight.
    return open_cases(owner=owner).filter(  # type: ignore[misc]
        next_due__lt=now or timezone.now())


def contact_cases(*, contact) -> QuerySet[Case]:
    return contact.cases.select_related("owner").order_by("-created_at", "-id")


def open_case_q() -> Q:
    """Contacts with at least one case not solved yet (an audience filter)."""
    return Q(Exists(Case.objects.filter(contact=OuterRef("pk")).exclude(status=Case.Status.SOLVED)))


def contact_open_cases_count() -> Coalesce:
    """The open cases of the contact OuterRef("contact") (an annotation on rows that point to
    a contact: the call list's scores)."""
    open_cases = (Case.objects.filter(contact=OuterRef("contact"))
                  .exclude(status=Case.Status.SOLVED).order_by().values("contact")
                  .annotate(n=Count("id")).values("n"))
    return Coalesce(Subquery(open_cases), 0)


def case_to_confirm(*, case_id: int, address_digest: str) -> Case | None:
    """The case a confirmation link names, if it still exists and its contact's address is
    still the one the link was sent to."""
    case = Case.objects.select_related("contact").filter(pk=case_id).first()
    if case is None or not address_matches(address_digest, case.contact.email):
        return None
    return case


def case_by_id(case_id: int) -> Case | None:
    return Case.objects.select_related("contact").filter(pk=case_id).first()


def case_answered_by(message_ids: list[str]) -> Case | None:
    """The case of the latest reply we sent among these Message-IDs (an email's In-Reply-To
    and References), if any."""
    from .models import CaseMessage

    sent = (CaseMessage.objects.filter(direction=CaseMessage.Direction.OUT,
                                       message_id__in=message_ids[-50:])
            .select_related("case__contact").order_by("-sent_at", "-id").first())
    return None if sent is None else sent.case


def case_thread(case: Case) -> QuerySet:
    """The messages after the case's opening text, oldest first, with their authors."""
    return case.messages.select_related("author").order_by("sent_at", "id")
