"""export_contacts: every contact with its figures and current scores, one CSV row each."""
from collections.abc import Iterator
from typing import TextIO

from django.db.models import FilteredRelation, Q

from crm.admin_tools import CSVColumn, csv_lines, csv_rows, local_datetime

from ..models import Contact
from .runs import current_run


def _rounded(value: float | None) -> float | str:
    return "" if value is None else round(value, 6)


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


def contacts_export_csv(out: TextIO) -> int:
    """Write the CSV (UTF-8 with BOM, formula-safe) and return the number of contacts."""
    run = current_run()
    contacts = Contact.objects.annotate(current_score=FilteredRelation(
        "scores", condition=Q(scores__run_id=run.pk if run else None))).order_by("pk")
    count = 0

    def counted(rows: Iterator[list[object]]) -> Iterator[list[object]]:
        nonlocal count
        for row in rows:
            count += 1
            yield row

    for chunk in csv_lines([column.header for column in EXPORT_COLUMNS],
                           counted(csv_rows(contacts, EXPORT_COLUMNS))):
        out.write(chunk)
    return count
