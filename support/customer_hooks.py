"""What support adds to customers' pages and figures (registered in SupportConfig.ready()).

customers never imports support: its pages ask customers.hooks, and these functions answer.
"""
from django.db.models import Count, OuterRef, Subquery
from django.db.models.functions import Coalesce

from customers import hooks

from .models import Case, Priority
from .selectors import contact_cases, open_case_q, overdue_cases

CASES_SHOWN = 20


def _contact_page(request, contact) -> dict:
    if not request.user.has_perm("support.view_case"):
        return {}
    return {"contact_cases": contact_cases(contact=contact)[:CASES_SHOWN],
            "case_channels": Case.Channel.choices, "case_priorities": Priority.choices}


def _today_page(request, *, owner) -> dict:
    return {"overdue_cases": list(overdue_cases(owner=owner)[:CASES_SHOWN])}


def _contact_counts() -> dict:
    return {"open_cases": open_case_q()}


def _score_row_annotations() -> dict:
    """The call list's open cases of each row's contact."""
    open_cases = (Case.objects.filter(contact=OuterRef("contact"))
                  .exclude(status=Case.Status.SOLVED).order_by().values("contact")
                  .annotate(n=Count("id")).values("n"))
    return {"open_cases": Coalesce(Subquery(open_cases), 0)}


def register() -> None:
    hooks.contact_page.register(_contact_page)
    hooks.today_page.register(_today_page)
    hooks.contact_counts.register(_contact_counts)
    hooks.score_row_annotations.register(_score_row_annotations)
