"""The scoring job: fit once, score every contact in chunks, publish only a complete run.

    run = scoring_run_start(trigger=...)      # None when a run is already going (the lock)
    scoring_run_execute(run.id, parallel=...) # load, fit, backtest; then score chunk by chunk
                                              # (in this process, or as parallel Celery tasks)
    scoring_chunk_score(run.id, number)       # one chunk; the last one to finish publishes

A run's scores become the contacts' current scores only when every chunk is done (the newest
published, succeeded run is current). A failed run keeps the previous scores and its error.
"""
import datetime as dt
import logging
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from ..models import Contact, ContactScore, ScoringChunk, ScoringRun
from ..normalise import shop_day
from .features import attribute_source, attributes_at, model_categories
from .model import pipeline
from .store import day_index, day_rows, scores_write

if TYPE_CHECKING:
    from .model.attributes import Attributes

logger = logging.getLogger(__name__)
Status = ScoringRun.Status


def current_run() -> ScoringRun | None:
    """The run whose scores are the contacts' current scores."""
    return (ScoringRun.objects.filter(status=Status.SUCCEEDED, publish=True)
            .order_by("-finished_at", "-id").first())


def scoring_run_start(*, trigger: str, as_of: dt.date | None = None,
                      horizon_days: int | None = None,
                      started_by_id: int | None = None) -> ScoringRun | None:
    """Open a run, or return None when another one is running (a unique constraint locks).
    `started_by_id`: the manager who asked for it (the admin's "run now")."""
    _abandon_stale_runs()
    today = shop_day(timezone.now())
    try:
        with transaction.atomic():
            return ScoringRun.objects.create(
                trigger=trigger, started_by_user_id=started_by_id, as_of=as_of or today,
                horizon_days=horizon_days or settings.CRM_SCORING_HORIZON_DAYS,
                publish=as_of is None or as_of >= today,
            )
    except IntegrityError:
        return None


def _abandon_stale_runs() -> None:
    stale_before = timezone.now() - dt.timedelta(minutes=settings.CRM_SCORING_STALE_AFTER_MINUTES)
    ScoringRun.objects.filter(status=Status.RUNNING, started_at__lt=stale_before).update(
        status=Status.FAILED, finished_at=timezone.now(),
        error="Abandoned: still running after %d minutes (its worker stopped?)."
              % settings.CRM_SCORING_STALE_AFTER_MINUTES,
    )


def scoring_run_execute(run_id: int, *, parallel: bool) -> None:
    """Fit and backtest, then score every chunk here or through parallel Celery tasks."""
    run = ScoringRun.objects.get(pk=run_id, status=Status.RUNNING)
    try:
        started = time.perf_counter()
        rows = day_rows(as_of=run.as_of)
        loaded = time.perf_counter() - started
        result = pipeline.fit(rows, as_of_day=day_index(run.as_of), horizon_days=run.horizon_days,
                              sample_size=settings.CRM_SCORING_FIT_SAMPLE,
                              attributes=attribute_source(as_of=run.as_of),
                              previous=_previous_paretonbd(run))
        _record_fit(run, result, loaded)
        if result.fitted is None:  # ENOUGH and NOT_BACKTESTED (no backtest yet) give scores
            _finish(run.pk, Status.NOT_ENOUGH_DATA)
            return
        numbers = _plan_chunks(run, rows.contact_ids)
        if not parallel:
            for number in numbers:
                scoring_chunk_score(run.pk, number, rows=rows)
            return
    except Exception as error:
        scoring_run_fail(run_id, error)
        raise
    from ..tasks import score_chunk_task

    try:
        for number in numbers:
            score_chunk_task.delay(run.pk, number)
    except Exception as error:  # e.g. the broker went away: say so now, not in three hours
        scoring_run_fail(run_id, error)
        raise


def _previous_paretonbd(run: ScoringRun) -> "pipeline.ParetoNbdParams | None":
    """The Pareto/NBD parameters of the newest earlier run that finished with fitted models,
    where tonight's fits start (pipeline.paretonbd_start: None when it has none usable)."""
    previous = (ScoringRun.objects.filter(status=Status.SUCCEEDED, fitted__isnull=False)
                .exclude(pk=run.pk).order_by("-finished_at", "-id").values_list("fitted", flat=True)
                .first())
    return pipeline.paretonbd_start(previous)


def _record_fit(run: ScoringRun, result: "pipeline.FitResult", load_seconds: float) -> None:
    run.verdict = result.verdict.name.lower()
    run.reports = [report.to_json() for report in result.reports]
    run.counts = result.counts.to_json()
    run.durations = {"database_read": round(load_seconds, 3), **_rounded(result.durations)}
    if result.fitted is not None:
        run.fitted = result.fitted.to_json()
        run.chosen_model = result.fitted.chosen
    run.save(update_fields=["verdict", "reports", "counts", "durations", "fitted", "chosen_model"])


def _rounded(durations: dict[str, float]) -> dict[str, float]:
    return {stage: round(seconds, 3) for stage, seconds in durations.items()}


def _plan_chunks(run: ScoringRun, contact_ids: np.ndarray) -> list[int]:
    ids = np.unique(contact_ids)
    size = max(1, settings.CRM_SCORING_CHUNK_SIZE)
    chunks = [ScoringChunk(run=run, number=number, first_contact_id=int(part[0]),
                           last_contact_id=int(part[-1]))
              for number, part in enumerate(np.array_split(ids, max(1, -(-len(ids) // size))))
              if len(part)]
    ScoringChunk.objects.bulk_create(chunks)
    return [chunk.number for chunk in chunks]


def scoring_chunk_score(run_id: int, number: int, *, rows: "pipeline.DayRows | None" = None) -> None:
    """Score one chunk of contacts; safe to run twice. The last chunk publishes the run."""
    run = ScoringRun.objects.filter(pk=run_id, status=Status.RUNNING).first()
    chunk = ScoringChunk.objects.filter(run_id=run_id, number=number, done=False).first()
    if run is None or chunk is None:
        return  # finished, failed, or this chunk was done by an earlier try
    assert run.fitted is not None  # chunks are planned only after a fit stored its models
    started = time.perf_counter()
    span = (chunk.first_contact_id, chunk.last_contact_id)
    if rows is None:
        rows = day_rows(as_of=run.as_of, contact_ids=span)
    else:
        rows = _rows_between(rows, *span)
    fitted = pipeline.FittedModels.from_json(run.fitted)
    scores = pipeline.score(fitted, rows, attributes=_attributes(fitted, run.as_of, span))
    with transaction.atomic():
        if not ScoringChunk.objects.filter(pk=chunk.pk, done=False).update(done=True):
            return
        scores_write(run_id=run_id, scores=scores, scored_at=timezone.now())
    _add_duration(run_id, "score", time.perf_counter() - started)
    if not ScoringChunk.objects.filter(run_id=run_id, done=False).exists():
        _finish(run_id, Status.SUCCEEDED)


def _attributes(fitted: "pipeline.FittedModels", day: dt.date,
                contact_ids: Sequence[int]) -> "Attributes | None":
    """The contacts' attributes as of day, when the models in use read them (else None)."""
    if "covariate" not in (fitted.model_for(True), fitted.model_for(False)):
        return None
    return attributes_at(day, contact_ids=contact_ids,
                         categories=model_categories(fitted.state.covariate.features))


def _rows_between(rows: "pipeline.DayRows", first: int, last: int) -> "pipeline.DayRows":
    kept = (rows.contact_ids >= first) & (rows.contact_ids <= last)
    return pipeline.DayRows(contact_ids=rows.contact_ids[kept], days=rows.days[kept],
                            spend=rows.spend[kept], items=rows.items[kept],
                            coupon=rows.coupon[kept])


def _add_duration(run_id: int, stage: str, seconds: float) -> None:
    with transaction.atomic():
        run = ScoringRun.objects.select_for_update().get(pk=run_id)
        run.durations[stage] = round(run.durations.get(stage, 0) + seconds, 3)
        run.save(update_fields=["durations"])


def _finish(run_id: int, status: str) -> None:
    with transaction.atomic():
        claimed = ScoringRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
            status=status, finished_at=timezone.now())
        if claimed:  # the run's work list goes with it: whoever sees it finished sees none
            ScoringChunk.objects.filter(run_id=run_id).delete()
    if claimed and status == Status.SUCCEEDED:
        _drop_superseded_scores(run_id)


def _drop_superseded_scores(run_id: int) -> None:
    """Keep the scores of the current run, of this one and of the newest unpublished run (an
    --as-of backtest stays exportable after the next nightly run); older runs keep their
    figures."""
    keep = {run_id}
    if current := current_run():
        keep.add(current.pk)
    if backtest := (ScoringRun.objects.filter(status=Status.SUCCEEDED, publish=False)
                    .order_by("-finished_at", "-id").first()):
        keep.add(backtest.pk)
    started = time.perf_counter()
    # A run that started meanwhile is writing its own rows: never touch those.
    ContactScore.objects.exclude(run_id__in=keep).exclude(run__status=Status.RUNNING).delete()
    ScoringChunk.objects.exclude(run__status=Status.RUNNING).delete()
    _add_duration(run_id, "cleanup", time.perf_counter() - started)


def scoring_run_fail(run_id: int, error: BaseException | str) -> None:
    """Mark a run failed with its error; its partial scores are never current."""
    logger.error("Scoring run %s failed: %s", run_id, error)
    ScoringRun.objects.filter(pk=run_id, status=Status.RUNNING).update(
        status=Status.FAILED, finished_at=timezone.now(), error=str(error)[:4000] or repr(error))


def contact_scores_refresh(contact_id: int) -> ContactScore | None:
    """Re-score one contact from the current run's fitted models (no refit), e.g. after a sale."""
    run = current_run()
    if run is None or not run.fitted:
        return None
    today = shop_day(timezone.now())
    rows = day_rows(as_of=today, contact_ids=[contact_id])
    if not len(rows.contact_ids):
        ContactScore.objects.filter(run=run, contact_id=contact_id).delete()
        return None
    fitted = pipeline.FittedModels.from_json(run.fitted)
    scores = pipeline.score(fitted, rows, as_of_day=day_index(today),
                            attributes=_attributes(fitted, today, [contact_id]))
    values: dict[str, float | None] = {name: float(getattr(scores, name)[0]) for name in (
        "p_buy_again", "p_alive", "expected_purchases", "expected_value", "predicted_value_12m",
        "value_if_active_12m")}
    values = {name: None if value != value else value for name, value in values.items()}  # NaN
    history = {name: int(round(float(getattr(scores, source)[0]))) for name, source in (
        ("frequency", "frequency"), ("recency_days", "recency_days"), ("age_days", "age_days"))}
    score, _created = ContactScore.objects.update_or_create(
        run=run, contact_id=contact_id,
        defaults={"scored_at": timezone.now(), **values, **history})
    return score


def contacts_scores_refresh(contact_ids: list[int]) -> int:
    """contact_scores_refresh for many contacts in one pass (an import's chunk): one read of
    their purchases, one scoring of the arrays, their rows of the current run replaced.
    Returns how many were scored (contacts with no counted purchase lose their score)."""
    run = current_run()
    if run is None or not run.fitted or not contact_ids:
        return 0
    today = shop_day(timezone.now())
    rows = day_rows(as_of=today, contact_ids=list(contact_ids))
    fitted = pipeline.FittedModels.from_json(run.fitted)
    scores = (pipeline.score(fitted, rows, as_of_day=day_index(today),
                             attributes=_attributes(fitted, today, list(contact_ids)))
              if len(rows.contact_ids) else None)
    with transaction.atomic():
        # Two refreshes of the same contacts (a purchase's and a batch's, on two workers)
        # take turns: each replaces the rows, neither inserts beside the other's.
        list(Contact.objects.select_for_update().filter(pk__in=list(contact_ids))
             .order_by("pk").values_list("pk"))
        ContactScore.objects.filter(run=run, contact_id__in=contact_ids).delete()
        if scores is None:
            return 0
        return scores_write(run_id=run.pk, scores=scores, scored_at=timezone.now())
