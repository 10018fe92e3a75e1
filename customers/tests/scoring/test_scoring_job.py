"""The nightly scoring job on the database: runs, chunks, the lock, failures, --as-of."""
import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from customers.models import ContactScore, ScoringChunk, ScoringRun
from customers.scoring.runs import (
    current_run,
    scoring_chunk_score,
    scoring_run_execute,
    scoring_run_start,
)
from customers.tests.factories import ContactFactory, record_purchase
from customers.tests.scoring_data import CDNOW_SAMPLE_BUYERS, load_cdnow_sample

pytestmark = pytest.mark.django_db
Status = ScoringRun.Status


def _yesterday() -> dt.date:
    return timezone.localdate() - dt.timedelta(days=1)


def _run(**options) -> ScoringRun:
    run = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND, **options)
    scoring_run_execute(run.pk, parallel=False)
    run.refresh_from_db()
    return run


@pytest.fixture
def cdnow(db):
    load_cdnow_sample(last_day=_yesterday())


def test_a_run_scores_every_buyer_with_backtested_models(cdnow):
    run = _run()

    assert run.status == Status.SUCCEEDED
    assert current_run() == run
    scores = ContactScore.objects.filter(run=run)
    assert scores.count() == CDNOW_SAMPLE_BUYERS
    assert {report["name"] for report in run.reports} >= {"bgnbd", "paretonbd", "covariate"}
    assert run.chosen_model in {report["name"] for report in run.reports}
    for report in run.reports:
        assert 0.5 < report["metrics"]["auc"] <= 1
        assert len(report["metrics"]["calibration"]) >= 5
    assert {"load", "score"} <= set(run.durations)
    for score in scores:
        assert 0 <= score.p_buy_again <= 1 and 0 <= score.p_alive <= 1
        assert score.expected_purchases >= 0 and score.expected_value >= 0
        assert score.predicted_value_12m >= 0


def test_scores_follow_the_history_a_regular_recent_buyer_beats_a_lapsed_one(cdnow):
    regular = ContactFactory(email="regular@example.com")
    lapsed = ContactFactory(email="lapsed@example.com")
    for days_ago in (10, 40, 70, 100, 130):
        record_purchase(regular, days_ago=days_ago)
    for days_ago in (400, 430, 460, 490, 520):
        record_purchase(lapsed, days_ago=days_ago)

    run = _run()

    regular_score = ContactScore.objects.get(run=run, contact=regular)
    lapsed_score = ContactScore.objects.get(run=run, contact=lapsed)
    assert regular_score.p_buy_again > lapsed_score.p_buy_again
    assert regular_score.p_alive > lapsed_score.p_alive


def test_prospects_get_no_score(cdnow):
    prospect = ContactFactory()

    run = _run()

    assert not ContactScore.objects.filter(run=run, contact=prospect).exists()


def test_too_little_data_says_so_and_stores_no_numbers():
    for index in range(20):
        record_purchase(ContactFactory(), days_ago=index * 3)

    run = _run()

    assert run.status == Status.NOT_ENOUGH_DATA
    assert run.verdict in {"too_few_buyers", "too_short_history"}
    assert not ContactScore.objects.exists()
    assert current_run() is None


def test_a_second_start_while_one_runs_is_refused():
    first = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)

    second = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)

    assert first is not None and second is None
    assert ScoringRun.objects.count() == 1


def test_a_run_abandoned_by_its_worker_is_taken_over(settings):
    stale = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)
    ScoringRun.objects.filter(pk=stale.pk).update(
        started_at=timezone.now() - dt.timedelta(minutes=settings.CRM_SCORING_STALE_AFTER_MINUTES + 1))

    fresh = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)

    stale.refresh_from_db()
    assert fresh is not None
    assert stale.status == Status.FAILED and "Abandoned" in stale.error


def test_a_failed_run_keeps_the_previous_scores_and_shows_the_error(cdnow, monkeypatch):
    good = _run()
    before = dict(ContactScore.objects.filter(run=good).values_list("contact_id", "p_buy_again"))

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr("customers.scoring.model.pipeline.score", broken)
    bad = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND)
    with pytest.raises(RuntimeError):
        scoring_run_execute(bad.pk, parallel=False)

    bad.refresh_from_db()
    assert bad.status == Status.FAILED and "disk full" in bad.error
    assert current_run() == good
    assert dict(ContactScore.objects.filter(run=good).values_list(
        "contact_id", "p_buy_again")) == before


def test_chunks_on_workers_score_everyone_once_and_a_retried_chunk_does_nothing(cdnow, settings):
    settings.CRM_SCORING_CHUNK_SIZE = 500
    run = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)

    scoring_run_execute(run.pk, parallel=True)  # tasks run eagerly in tests
    scoring_chunk_score(run.pk, 0)

    run.refresh_from_db()
    assert run.status == Status.SUCCEEDED
    assert ContactScore.objects.filter(run=run).count() == CDNOW_SAMPLE_BUYERS
    assert not ScoringChunk.objects.filter(run=run, done=False).exists()


def test_a_new_run_replaces_the_scores_of_the_one_before(cdnow):
    first = _run()
    second = _run()

    assert current_run() == second
    assert not ContactScore.objects.filter(run=first).exists()
    assert ContactScore.objects.filter(run=second).count() == CDNOW_SAMPLE_BUYERS


def test_as_of_ignores_later_purchases_and_leaves_current_scores_alone(cdnow):
    newcomers = [ContactFactory() for _ in range(5)]
    for contact in newcomers:
        record_purchase(contact, days_ago=20)
    current = _run()
    as_of = _yesterday() - dt.timedelta(days=200)

    backtest = _run(as_of=as_of)

    assert backtest.status == Status.SUCCEEDED and not backtest.publish
    assert backtest.counts["contacts"] == CDNOW_SAMPLE_BUYERS
    assert current.counts["contacts"] == CDNOW_SAMPLE_BUYERS + len(newcomers)
    assert not ContactScore.objects.filter(run=backtest, contact__in=newcomers).exists()
    assert current_run() == current
    for score in ContactScore.objects.filter(run=backtest)[:50]:
        assert score.age_days >= 0


def test_a_purchase_refreshes_that_contacts_score_without_a_refit(
        cdnow, django_capture_on_commit_callbacks):
    run = _run()
    score = ContactScore.objects.filter(run=run, frequency=0).select_related("contact").first()
    fitted_before = run.fitted

    with django_capture_on_commit_callbacks(execute=True):
        record_purchase(score.contact, days_ago=0)  # the refresh task runs eagerly

    refreshed = ContactScore.objects.get(run=run, contact=score.contact)
    run.refresh_from_db()
    assert refreshed.frequency == 1
    assert refreshed.scored_at > score.scored_at
    assert refreshed.p_buy_again != score.p_buy_again
    assert run.fitted == fitted_before
    assert ScoringRun.objects.count() == 1


def test_contact_page_shows_the_score_in_plain_words(cdnow, client, sales_user):
    _run()
    score = ContactScore.objects.filter(frequency__gte=2).select_related("contact").first()
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[score.contact_id])).content.decode()

    assert f"{round(score.p_buy_again * 100)}%" in html
    assert "likely to buy again" in html and "separate days" in html


def test_contact_page_without_a_run_says_not_scored_yet(client, sales_user):
    contact = ContactFactory()
    record_purchase(contact, days_ago=5)
    client.force_login(sales_user)

    html = client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()

    assert "Not scored yet" in html
