"""score_contacts and export_contacts from the command line."""
import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from customers.models import ContactScore, ScoringRun
from customers.scoring.export import EXPORT_COLUMNS
from customers.tests.factories import ContactFactory, record_purchase
from customers.tests.scoring_data import CDNOW_SAMPLE_BUYERS, load_cdnow_sample

pytestmark = pytest.mark.django_db
ISSUE_COLUMNS = ["email", "stage", "purchase_count", "first_purchase_at", "last_purchase_at",
                 "total_spent", "p_buy_again", "p_alive", "expected_purchases", "expected_value",
                 "scored_at"]


def _yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def _score(*args) -> str:
    out = io.StringIO()
    call_command("score_contacts", *args, stdout=out)
    return out.getvalue()


def _export() -> list[dict[str, str]]:
    out = io.StringIO()
    call_command("export_contacts", "-", stdout=out)
    return list(csv.DictReader(io.StringIO(out.getvalue().lstrip("\ufeff"))))


def test_score_contacts_reports_the_backtest_and_the_model_used():
    load_cdnow_sample(last_day=_yesterday())

    printed = _score("--horizon-days", "60")

    run = ScoringRun.objects.get()
    assert run.status == ScoringRun.Status.SUCCEEDED and run.horizon_days == 60
    assert "Succeeded" in printed and "(used)" in printed and "AUC" in printed
    assert ContactScore.objects.count() == CDNOW_SAMPLE_BUYERS


def test_score_contacts_as_of_is_a_backtest_that_ignores_later_purchases():
    load_cdnow_sample(last_day=_yesterday())
    record_purchase(ContactFactory(), days_ago=30)
    as_of = _yesterday() - dt.timedelta(days=250)

    _score("--as-of", as_of.isoformat())

    run = ScoringRun.objects.get()
    assert run.as_of == as_of and not run.publish
    assert run.counts["contacts"] == CDNOW_SAMPLE_BUYERS


@pytest.mark.parametrize(("args", "message"), [
    (["--as-of", "31/03/2026"], "--as-of must be a date"),
    (["--as-of", "2999-01-01"], "cannot be in the future"),
    (["--horizon-days", "0"], "between 1 and 3650"),
])
def test_score_contacts_rejects_bad_options_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("score_contacts", *args)

    assert not ScoringRun.objects.exists()


def test_score_contacts_refuses_while_another_run_is_going():
    ScoringRun.objects.create(trigger=ScoringRun.Trigger.SCHEDULE, as_of=_yesterday(),
                              horizon_days=90)

    with pytest.raises(CommandError, match="in progress"):
        _score()


def test_export_has_one_row_per_contact_with_the_issue_columns():
    load_cdnow_sample(last_day=_yesterday())
    prospect = ContactFactory(email="prospect@example.com")
    _score()

    rows = _export()

    assert ISSUE_COLUMNS == [c for c in (col.header for col in EXPORT_COLUMNS) if c in ISSUE_COLUMNS]
    assert len(rows) == CDNOW_SAMPLE_BUYERS + 1
    by_email = {row["email"]: row for row in rows}
    assert by_email[prospect.email]["p_buy_again"] == ""
    assert by_email[prospect.email]["stage"] == "prospect"
    scored = by_email["cdnow1@example.com"]
    score = ContactScore.objects.get(contact__email="cdnow1@example.com")
    assert float(scored["p_buy_again"]) == pytest.approx(score.p_buy_again, abs=1e-6)
    assert scored["scored_at"].startswith(str(timezone.localdate(score.scored_at)))


def test_export_before_any_run_leaves_scores_blank_and_names_cannot_become_formulas():
    contact = ContactFactory(first_name="=HYPERLINK(\"http://x\")")
    record_purchase(contact, days_ago=3)

    rows = _export()

    assert rows[0]["first_name"].startswith("'=")
    assert rows[0]["purchase_count"] == "1" and rows[0]["p_buy_again"] == ""


def test_export_to_an_unwritable_place_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_contacts", str(tmp_path / "missing" / "out.csv"))
