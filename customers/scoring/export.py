"""export_contacts: every contact with its figures and the scores of one run (by default the
current, published one), one CSV row each; run_id and as_of say which run the scores are from
(blank for contacts that have no score in it)."""
from collections.abc import Iterator
from typing import TextIO

from django.db.models import FilteredRelation, Q
from django.utils.translation import gettext as _

from crm.admin_tools import CSVColumn, csv_lines, csv_rows, local_datetime

from ..models import Contact, ContactScore, ScoringRun
from .runs import current_run

LATEST = "latest"


class ExportRunError(Exception):
    """The run asked for cannot be exported; the message says why, in words."""


def _rounded(value: float | None) -> float | str:
    return "" if value is None else round(value, 6)


def _blank_if_none(value: object) -> object:
    return "" if value is None else value


# Machine-readable column names: the file is for other programs as much as for people.
EXPORT_COLUMNS = [
    CSVColumn("email", "email"),
    CSVColumn("first_name", "first_name"),
    CSVColumn("last_name", "last_name"),
    CSVColumn("stage", "stage"),
    CSVColumn("marketing_consent", "marketing_consent", lambda value: int(value)),
    CSVColumn("purchase_count", "purchase_count"),
    CSVColumn("first_purchase_at", "first_purchase_at", local_datetime),
    CSVColumn("last_purchase_at", "last_purchase_at", local_datetime),
    CSVColumn("total_spent", "total_spent"),
    CSVColumn("p_buy_again", "current_score__p_buy_again", _rounded),
    CSVColumn("p_alive", "current_score__p_alive", _rounded),
    CSVColumn("expected_purchases", "current_score__expected_purchases", _rounded),
    CSVColumn("expected_value", "current_score__expected_value", _rounded),
    CSVColumn("predicted_value_12m", "current_score__predicted_value_12m", _rounded),
    CSVColumn("scored_at", "current_score__scored_at", local_datetime),
]


def run_columns(run: ScoringRun | None) -> list[CSVColumn]:
    """export_contacts' last two columns: the run the scores are from and its scoring day
    (blank where the contact has no score in it). The day is the run's, known here: SQLite
    cannot join the run through the filtered relation."""
    day = run.as_of.isoformat() if run else ""
    return [CSVColumn("run_id", "current_score__run_id", _blank_if_none),
            CSVColumn("as_of", "current_score__run", lambda run_id: "" if run_id is None else day)]


def scoring_run_for_export(which: str | None) -> ScoringRun | None:
    """The run whose scores to export: None or "" -> the current (published) run, which may be
    none yet; "latest" -> the most recently finished run, published or not; a number -> that
    run. Raises ExportRunError when that run has no scores to export."""
    if not which:
        return current_run()
    if which == LATEST:
        run = (ScoringRun.objects.exclude(status=ScoringRun.Status.RUNNING)
               .order_by("-finished_at", "-id").first())
        if run is None:
            raise ExportRunError(_("No scoring run has finished yet: run score_contacts first."))
    else:
        try:
            run_id = int(which)
        except ValueError:
            raise ExportRunError(_("--run must be 'latest' or a run id, not %(text)r.")
                                 % {"text": which}) from None
        run = ScoringRun.objects.filter(pk=run_id).first()
        if run is None:
            raise ExportRunError(_("There is no scoring run %(id)d.") % {"id": run_id})
    if run.status != ScoringRun.Status.SUCCEEDED:
        raise ExportRunError(_("Scoring run %(id)d has no scores to export: %(status)s.") % {
            "id": run.pk, "status": run.get_status_display()})
    if not ContactScore.objects.filter(run=run).exists() and (run.counts or {}).get("contacts"):
        raise ExportRunError(_("The scores of scoring run %(id)d are no longer kept (only the "
                               "current run's and the newest unpublished run's are): run "
                               "score_contacts again.") % {"id": run.pk})
    return run


def contacts_export_csv(out: TextIO, run: ScoringRun | None = None) -> int:
    """Write the CSV (UTF-8 with BOM, formula-safe) and return the number of contacts.
    `run`: whose scores (default: the current run's; blank scores when there is none)."""
    run = run or current_run()
    contacts = Contact.objects.annotate(current_score=FilteredRelation(
        "scores", condition=Q(scores__run_id=run.pk if run else None))).order_by("pk")
    count = 0

    def counted(rows: Iterator[list[object]]) -> Iterator[list[object]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    columns = [*EXPORT_COLUMNS, *run_columns(run)]
    for chunk in csv_lines([column.header for column in columns],
                           counted(csv_rows(contacts, columns))):
        out.write(chunk)
    return count
