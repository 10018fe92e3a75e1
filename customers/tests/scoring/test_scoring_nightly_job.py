"""The nightly job hands the last run's Pareto/NBD parameters to the next run's fit."""
import datetime as dt

import pytest
from django.utils import timezone

from customers.models import ScoringRun
from customers.scoring import runs
from customers.scoring.model import pipeline
from customers.tests.scoring_data import load_cdnow_sample

pytestmark = pytest.mark.django_db


def _run() -> ScoringRun:
    run = runs.scoring_run_start(trigger=ScoringRun.Trigger.COMMAND)
    runs.scoring_run_execute(run.pk, parallel=False)
    run.refresh_from_db()
    return run


def test_the_second_run_starts_its_pareto_nbd_fits_from_the_first_runs_parameters(monkeypatch):
    load_cdnow_sample(last_day=timezone.localdate() - dt.timedelta(days=1))
    given = []
    fit = pipeline.fit

    def spy(*args, **kwargs):
        given.append(kwargs.get("previous"))
        return fit(*args, **kwargs)

    monkeypatch.setattr(pipeline, "fit", spy)

    first = _run()
    second = _run()

    assert first.status == second.status == ScoringRun.Status.SUCCEEDED
    stored = first.fitted["state"]["paretonbd"]
    assert given[0] is None  # nothing to start from on the first night
    assert (given[1].r, given[1].alpha, given[1].s, given[1].beta) == (
        stored["r"], stored["alpha"], stored["s"], stored["beta"])


def test_a_run_whose_pareto_nbd_fit_did_not_converge_is_no_starting_point():
    run = ScoringRun.objects.create(
        trigger=ScoringRun.Trigger.COMMAND, as_of=timezone.localdate(), horizon_days=90,
        status=ScoringRun.Status.SUCCEEDED, finished_at=timezone.now(),
        fitted={"state": {"paretonbd": {"r": 0.5, "alpha": 1.0, "s": 1e-8, "beta": 1e8,
                                        "converged": False, "reason": "at_bound",
                                        "log_likelihood": None}}})
    later = ScoringRun.objects.create(trigger=ScoringRun.Trigger.COMMAND,
                                      as_of=timezone.localdate(), horizon_days=90)

    assert runs._previous_paretonbd(later) is None
    run.fitted["state"]["paretonbd"].update(converged=True, reason="converged")
    run.save()
    assert runs._previous_paretonbd(later).beta == 1e8
