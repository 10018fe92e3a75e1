"""Issue #18 points 2 and 3 on the database: scores before a backtest window exists (the CDNOW
39-week calibration through score_contacts and the admin), and any run exported, so that
import_purchases -> score_contacts --as-of -> export_contacts --run latest is a backtest from the
command line."""
import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from customers.models import ContactScore, ScoringRun
from customers.tests.data.cdnow import sample_transactions
from customers.tests.factories import ContactFactory, record_purchase
from customers.tests.scoring_data import CDNOW_LAST_DAY, CDNOW_SAMPLE_BUYERS, load_cdnow_sample

pytestmark = pytest.mark.django_db
Status = ScoringRun.Status
CALIBRATION_END = dt.date(1997, 9, 30)  # 39 weeks after the cohort's first day


def _yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def _call(command: str, *args) -> str:
    out = io.StringIO()
    call_command(command, *args, stdout=out)
    return out.getvalue()


def _export(*args) -> list[dict[str, str]]:
    text = _call("export_contacts", "-", *args)
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# --- point 2: the CDNOW 39-week calibration gets scores -------------------------------------


@pytest.fixture
def calibration_run(db) -> ScoringRun:
    shift = load_cdnow_sample(last_day=_yesterday())
    printed = _call("score_contacts", "--as-of", (CALIBRATION_END + shift).isoformat(),
                    "--horizon-days", "273")
    run = ScoringRun.objects.get()
    run.printed = printed
    return run


def test_cdnow_39_week_calibration_is_scored_not_backtested(calibration_run):
    run = calibration_run

    assert run.status == Status.SUCCEEDED and run.verdict == "not_backtested"
    assert not run.publish  # an --as-of run: the contacts' current scores stay as they were
    assert run.chosen_model == "bgnbd"
    params = run.fitted["state"]["bgnbd"]
    assert (params["r"], params["alpha"] / 7, params["a"], params["b"]) == pytest.approx(
        (0.243, 4.414, 0.793, 2.426), abs=1e-3)  # Fader, Hardie & Lee (2005)
    scores = ContactScore.objects.filter(run=run)
    assert scores.count() == CDNOW_SAMPLE_BUYERS
    # repeat purchase days forecast for weeks 40-78 (1,882 happened)
    assert sum(s.expected_purchases for s in scores) == pytest.approx(1654, rel=0.01)
    assert all(0 <= s.p_buy_again <= 1 for s in scores)
    # 300 customers had bought by 1997-01-14: a 273-day window needs as_of 1997-10-14
    assert run.counts["history_days"] == 272 and run.counts["backtest_needs_days"] == 14
    assert "Not backtested yet" in run.printed
    assert "BG/NBD is used" in run.printed
    assert "BG/NBD (used): fitted on all the history, not backtested; r 0.2426" in run.printed
    assert "A backtest needs 14 more days of purchases" in run.printed


def test_the_runs_page_says_the_run_is_not_backtested_and_what_a_backtest_needs(
        client, manager, calibration_run):
    client.force_login(manager)

    listing = client.get(reverse("admin:customers_scoringrun_changelist")).content.decode()
    page = client.get(reverse("admin:customers_scoringrun_change",
                              args=[calibration_run.pk])).content.decode()

    assert "BG/NBD (not backtested yet)" in listing
    assert "Not backtested yet" in page
    assert "covariate model is only used once it has won a backtest" in page
    assert "A backtest needs 14 more days of purchases" in page


def test_a_not_enough_data_run_says_what_history_scores_and_a_backtest_need(client, manager):
    run = ScoringRun.objects.create(
        trigger="schedule", as_of=timezone.localdate(), horizon_days=90,
        status=Status.NOT_ENOUGH_DATA, verdict="too_short_history",
        counts={"contacts": 400, "history_days": 20, "backtest_needs_days": 160})
    client.force_login(manager)

    page = client.get(reverse("admin:customers_scoringrun_change", args=[run.pk])).content.decode()

    assert "history is too short" in page
    assert "Scores need at least 30 days of purchases" in page
    assert "A backtest needs 160 more days of purchases" in page


# --- point 3: any run can be exported -------------------------------------------------------


def _purchases_file(path, *, customers: int) -> dt.timedelta:
    """The first `customers` of the CDNOW sample as a purchases CSV ending yesterday."""
    data = sample_transactions()
    shift = _yesterday() - CDNOW_LAST_DAY
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "purchased_at", "amount", "currency", "external_id"])
        for index, (customer, day, amount) in enumerate(
                zip(data["customer"], data["day"], data["amount"])):
            if customer <= customers:
                writer.writerow([f"cdnow{customer}@example.com",
                                 (day.astype(dt.date) + shift).isoformat(), f"{amount:.2f}",
                                 "USD", f"sample-{index}"])
    return shift


def test_a_backtest_from_the_command_line_exports_the_as_of_scores(tmp_path):
    shift = _purchases_file(tmp_path / "purchases.csv", customers=400)
    _call("import_purchases", str(tmp_path / "purchases.csv"), "--historical")
    as_of = dt.date(1998, 3, 31) + shift

    _call("score_contacts", "--as-of", as_of.isoformat(), "--horizon-days", "91")
    _call("export_contacts", str(tmp_path / "scores.csv"), "--run", "latest")

    run = ScoringRun.objects.get()
    assert run.status == Status.SUCCEEDED and not run.publish and run.verdict == "enough"
    with (tmp_path / "scores.csv").open(encoding="utf-8-sig") as file:
        rows = list(csv.DictReader(file))
    assert len(rows) == 400
    scores = {s.contact.email: s for s in ContactScore.objects.filter(run=run)
              .select_related("contact")}
    assert len(scores) == 400
    for row in rows:
        score = scores[row["email"]]
        assert row["run_id"] == str(run.pk) and row["as_of"] == as_of.isoformat()
        assert float(row["p_buy_again"]) == pytest.approx(score.p_buy_again, abs=1e-6)
        assert float(row["predicted_value_12m"]) == pytest.approx(score.predicted_value_12m,
                                                                  rel=1e-6, abs=1e-6)
    # the default export is still the published run's: there is none, so no scores
    assert {(row["p_buy_again"], row["run_id"], row["as_of"]) for row in _export()} == {
        ("", "", "")}


def test_export_by_run_id_and_the_default_published_run():
    load_cdnow_sample(last_day=_yesterday())
    newcomer = ContactFactory(email="newcomer@example.com")
    record_purchase(newcomer, days_ago=30)
    _call("score_contacts", "--horizon-days", "60")
    published = ScoringRun.objects.get()
    _call("score_contacts", "--as-of", (_yesterday() - dt.timedelta(days=200)).isoformat())
    backtest = ScoringRun.objects.exclude(pk=published.pk).get()

    default, latest, by_id = _export(), _export("--run", "latest"), _export("--run",
                                                                           str(published.pk))

    assert {row["run_id"] for row in default} == {str(published.pk)}
    assert {row["as_of"] for row in default} == {published.as_of.isoformat()}
    assert {row["run_id"] for row in by_id} == {str(published.pk)}
    assert by_id == default
    # purchases after the backtest's day are ignored: contacts known only later have no score
    assert {row["run_id"] for row in latest} == {str(backtest.pk), ""}
    assert [row["email"] for row in latest if not row["run_id"]] == [newcomer.email]
    assert {row["as_of"] for row in latest if row["run_id"]} == {backtest.as_of.isoformat()}
    assert sum(1 for row in latest if row["run_id"]) == backtest.counts["contacts"]


@pytest.mark.parametrize(("args", "message"), [
    (["--run", "latest"], "No scoring run has finished yet"),
    (["--run", "999"], "There is no scoring run 999"),
    (["--run", "last"], "must be 'latest' or a run id"),
])
def test_export_of_a_run_that_is_not_there_is_a_clear_error(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_contacts", "-", *args)


def test_export_of_a_run_without_scores_is_a_clear_error():
    failed = ScoringRun.objects.create(trigger="command", as_of=_yesterday(), horizon_days=90,
                                       status=Status.FAILED, finished_at=timezone.now())
    running = ScoringRun.objects.create(trigger="command", as_of=_yesterday(), horizon_days=90)

    with pytest.raises(CommandError, match=f"run {failed.pk} has no scores to export: Failed"):
        call_command("export_contacts", "-", "--run", "latest")
    with pytest.raises(CommandError, match=f"run {running.pk} has no scores to export"):
        call_command("export_contacts", "-", "--run", str(running.pk))


def test_export_of_a_run_whose_scores_were_dropped_says_so():
    old = ScoringRun.objects.create(trigger="command", as_of=_yesterday(), horizon_days=90,
                                    status=Status.SUCCEEDED, finished_at=timezone.now(),
                                    publish=False, counts={"contacts": 10})

    with pytest.raises(CommandError, match=f"scores of scoring run {old.pk} are no longer kept"):
        call_command("export_contacts", "-", "--run", str(old.pk))


def test_a_backtest_stays_exportable_after_the_next_nightly_run_until_the_next_backtest():
    load_cdnow_sample(last_day=_yesterday())
    _call("score_contacts", "--as-of", (_yesterday() - dt.timedelta(days=200)).isoformat())
    first = ScoringRun.objects.get()
    _call("score_contacts", "--horizon-days", "60")  # the nightly run, published

    rows = _export("--run", str(first.pk))

    assert {row["run_id"] for row in rows} == {str(first.pk)}
    _call("score_contacts", "--as-of", (_yesterday() - dt.timedelta(days=100)).isoformat())
    with pytest.raises(CommandError, match=f"scoring run {first.pk} are no longer kept"):
        call_command("export_contacts", "-", "--run", str(first.pk))
    assert ScoringRun.objects.filter(publish=True).get().scores.count() == CDNOW_SAMPLE_BUYERS
