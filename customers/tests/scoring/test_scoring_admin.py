"""Managers see every scoring run's backtest and calibration, and can start a run."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import ScoringRun
from customers.scoring.runs import scoring_run_execute, scoring_run_start
from customers.tests.scoring_data import load_cdnow_sample

pytestmark = pytest.mark.django_db
RUNS = reverse("admin:customers_scoringrun_changelist")
RUN_NOW = reverse("admin:customers_scoringrun_run_now")


@pytest.fixture
def finished_run(db) -> ScoringRun:
    load_cdnow_sample(last_day=timezone.localdate() - dt.timedelta(days=1))
    run = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND)
    scoring_run_execute(run.pk, parallel=False)
    run.refresh_from_db()
    return run


def test_a_run_shows_every_models_backtest_and_a_calibration_chart(client, manager, finished_run):
    client.force_login(manager)

    listing = client.get(RUNS)
    page = client.get(reverse("admin:customers_scoringrun_change", args=[finished_run.pk]))

    assert listing.status_code == 200 and "Succeeded" in listing.content.decode()
    html = page.content.decode()
    for label in ("BG/NBD", "Pareto/NBD", "Covariate model"):
        assert label in html
    assert "AUC, one-time buyers" in html and "(used)" in html
    assert "<svg" in html and html.count("<polyline") == len(finished_run.reports)


def test_a_not_enough_data_run_says_so_in_words(client, manager):
    run = ScoringRun.objects.create(trigger="schedule", as_of=timezone.localdate(),
                                    horizon_days=90, status=ScoringRun.Status.NOT_ENOUGH_DATA,
                                    verdict="too_few_buyers")
    client.force_login(manager)

    page = client.get(reverse("admin:customers_scoringrun_change", args=[run.pk]))

    assert "too few buyers" in page.content.decode()


def test_run_now_starts_a_run_labelled_with_the_manager(client, manager,
                                                       django_capture_on_commit_callbacks):
    client.force_login(manager)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RUN_NOW)

    run = ScoringRun.objects.get()
    assert response.status_code == 302
    # It was labelled "Started by: Schedule".
    assert (run.trigger, run.started_by_user) == (ScoringRun.Trigger.ADMIN, manager)
    listing = client.get(RUNS).content.decode()
    assert "Admin: marta" in listing
    assert "Admin: marta" in client.get(
        reverse("admin:customers_scoringrun_change", args=[run.pk])).content.decode()


def test_run_now_needs_a_post(client, manager):
    client.force_login(manager)

    client.get(RUN_NOW)

    assert not ScoringRun.objects.exists()


def test_sales_staff_cannot_see_or_start_runs(client, sales_user):
    client.force_login(sales_user)

    for response in (client.get(RUNS), client.post(RUN_NOW)):
        assert response.status_code == 302 and "/login" in response["Location"]
    assert not ScoringRun.objects.exists()
