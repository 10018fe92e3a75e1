"""The nightly pipeline end to end on CDNOW and on awkward synthetic data (no database).

CDNOW backtest figures (as_of 1998-06-30, 2,357 customers; see the pipeline's reports):
  90 days:  AUC bgnbd 0.834 / covariate 0.834; one-time 0.509 / 0.507; Brier 0.0844 / 0.0831
  39 weeks: AUC bgnbd 0.757 / covariate 0.781; one-time 0.568 / 0.569; Brier 0.1612 / 0.1569
The covariate model wins on Brier (so it is chosen) but does NOT materially beat BG/NBD for
one-time buyers on CDNOW: what is known about them (age, first order value, items) carries
little signal there, and the 90-day window has only 33 returning one-time buyers.
"""

import dataclasses
import json

import numpy as np
import pytest

from customers.scoring.model import pipeline
from customers.tests.data import cdnow

AS_OF = int(np.datetime64("1998-06-30").astype(np.int64))


def _cdnow_rows() -> pipeline.DayRows:
    raw = np.loadtxt(cdnow._file("CDNOW_sample.txt"), dtype=str)
    days = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return pipeline.DayRows(
        contact_ids=raw[:, 1].astype(np.int64),
        days=days.astype(np.int64),
        spend=raw[:, 4].astype(float),
        items=raw[:, 3].astype(np.int64),
        coupon=np.zeros(len(raw), dtype=bool),
    )


@pytest.fixture(scope="module")
def rows():
    return _cdnow_rows()


@pytest.fixture(scope="module")
def fit90(rows):
    return pipeline.fit(rows, as_of_day=AS_OF, horizon_days=90)


@pytest.fixture(scope="module")
def fit273(rows):
    return pipeline.fit(rows, as_of_day=AS_OF, horizon_days=273)


def _metrics(result):
    return {r.name: r.metrics for r in result.reports}


def test_cdnow_90_day_backtest(fit90):
    m = _metrics(fit90)
    assert fit90.verdict is pipeline.DataVerdict.ENOUGH
    assert m["bgnbd"].n == 2357 and m["bgnbd"].actual_buyers == 299
    assert m["bgnbd"].auc == pytest.approx(0.8338, abs=5e-4)
    assert m["bgnbd"].auc_one_time == pytest.approx(0.5086, abs=5e-4)
    assert m["bgnbd"].brier == pytest.approx(0.0844, abs=5e-4)
    assert m["covariate"].auc == pytest.approx(0.8336, abs=5e-3)
    assert m["covariate"].brier == pytest.approx(0.0831, abs=1e-3)
    assert m["covariate"].brier < m["bgnbd"].brier
    assert fit90.fitted.chosen == "covariate"  # lowest Brier


def test_cdnow_39_week_backtest_is_the_classic_split(fit273):
    m = _metrics(fit273)
    # cutoff 1997-09-30: the FHL calibration period; BG/NBD ranks one-time buyers barely above chance
    assert m["bgnbd"].auc_one_time == pytest.approx(0.5683, abs=5e-4)
    assert m["bgnbd"].brier == pytest.approx(0.1612, abs=5e-4)
    assert m["covariate"].auc == pytest.approx(0.7814, abs=5e-3)
    assert m["covariate"].brier < m["bgnbd"].brier - 0.003
    # honest: the covariate model ties BG/NBD on one-time buyers here (0.569 vs 0.568)
    assert m["covariate"].auc_one_time == pytest.approx(m["bgnbd"].auc_one_time, abs=0.01)
    # no complete 39-week window before the cutoff: trained on a shorter window (documented)
    assert fit273.counts.covariate_backtest_window_days == 136


def test_on_all_of_cdnow_the_covariate_model_ranks_one_time_buyers_better_at_39_weeks():
    """23,570 customers, the classic 39-week split: the covariate model beats BG/NBD overall
    and for one-time buyers (0.545 against 0.530), and is better calibrated (Brier).

    At 90 days it does not (0.528 against 0.534 for one-time buyers): there, not even a model
    fitted on the test window itself beats age alone (0.532), so no feature CDNOW has carries
    signal beyond what BG/NBD already uses. The backtest shows this per run.
    """
    data = cdnow.master_transactions()
    rows = pipeline.DayRows(
        contact_ids=data["customer"].astype(np.int64), days=data["day"].astype(np.int64),
        spend=data["amount"], items=data["items"].astype(np.int64),
        coupon=np.zeros(len(data["customer"]), dtype=bool))

    m = _metrics(pipeline.fit(rows, as_of_day=AS_OF, horizon_days=273, sample_size=None))

    assert m["bgnbd"].n_one_time == 14119
    assert m["covariate"].auc_one_time > m["bgnbd"].auc_one_time + 0.01
    assert m["covariate"].auc > m["bgnbd"].auc + 0.01
    assert m["covariate"].brier < m["bgnbd"].brier


def test_reports_are_json_and_complete(fit90):
    assert [r.name for r in fit90.reports] == ["bgnbd", "paretonbd", "covariate", "baseline"]
    json.dumps([dataclasses.asdict(r) for r in fit90.reports], allow_nan=False)
    json.dumps(fit90.fitted.to_json(), allow_nan=False)
    calibration = fit90.reports[0].metrics.calibration
    assert len(calibration) == 10 and sum(g.count for g in calibration) == 2357
    assert fit90.counts.contacts == 2357 and fit90.counts.one_time == 1218


def test_backtest_never_sees_purchases_after_its_cutoff(rows, fit90):
    # Give 300 non-buyers an extra purchase inside the backtest window (cutoff, as_of]. A model
    # fitted or trained on data after the cutoff would predict differently; ours must not.
    cutoff = AS_OF - 90
    extra_ids = np.arange(1, 2358)[np.isin(np.arange(1, 2358), rows.contact_ids[rows.days > cutoff], invert=True)][:300]
    changed = pipeline.DayRows(
        np.r_[rows.contact_ids, extra_ids],
        np.r_[rows.days, np.full(300, cutoff + 10)],
        np.r_[rows.spend, np.full(300, 20.0)],
        np.r_[rows.items, np.ones(300, dtype=np.int64)],
        np.r_[rows.coupon, np.zeros(300, dtype=bool)],
    )
    again = pipeline.fit(changed, as_of_day=AS_OF, horizon_days=90)
    before, after = _metrics(fit90), _metrics(again)
    assert after["bgnbd"].actual_buyers == before["bgnbd"].actual_buyers + 300
    for name in ("bgnbd", "paretonbd", "covariate", "baseline"):
        # equal up to rounding in the solver (a leak would move them by whole buyers)
        assert after[name].predicted_buyers == pytest.approx(
            before[name].predicted_buyers, rel=1e-9
        ), name


def test_rows_after_as_of_are_ignored(rows, fit90):
    later = pipeline.DayRows(
        np.r_[rows.contact_ids, [1, 2, 99999]],
        np.r_[rows.days, [AS_OF + 1, AS_OF + 50, AS_OF + 2]],
        np.r_[rows.spend, [1.0, 2.0, 3.0]],
        np.r_[rows.items, [1, 1, 1]],
        np.r_[rows.coupon, [False, True, False]],
    )
    again = pipeline.fit(later, as_of_day=AS_OF, horizon_days=90)
    assert again.fitted == fit90.fitted
    assert again.reports == fit90.reports


def test_json_round_trip_gives_identical_scores(rows, fit90):
    restored = pipeline.FittedModels.from_json(json.loads(json.dumps(fit90.fitted.to_json())))
    a, b = pipeline.score(fit90.fitted, rows), pipeline.score(restored, rows)
    for field in dataclasses.fields(a):
        if field.name != "drivers":
            np.testing.assert_array_equal(getattr(a, field.name), getattr(b, field.name))


def test_one_contact_scores_equal_its_row_in_the_full_run(rows, fit90):
    full = pipeline.score(fit90.fitted, rows)
    for contact in (1, 4, 1000):
        own = rows.contact_ids == contact
        single = pipeline.score(fit90.fitted, pipeline.DayRows(*(np.asarray(c)[own] for c in dataclasses.astuple(rows))))
        i = np.searchsorted(full.contact_ids, contact)
        assert single.contact_ids.tolist() == [contact]
        for field in ("p_buy_again", "p_alive", "expected_purchases", "expected_value", "predicted_value_12m"):
            assert getattr(single, field)[0] == getattr(full, field)[i], field


def test_scores_are_finite_and_probabilities_in_unit_interval(rows, fit90, fit273):
    for result in (fit90, fit273):
        s = pipeline.score(result.fitted, rows)
        assert len(s.contact_ids) == 2357 and np.all(np.diff(s.contact_ids) > 0)
        for values in (s.p_buy_again, s.p_alive):
            assert np.isfinite(values).all() and values.min() >= 0 and values.max() <= 1
        for values in (s.expected_purchases, s.expected_value, s.predicted_value_12m):
            assert np.isfinite(values).all() and values.min() >= 0


def test_expected_purchases_grow_with_the_horizon(rows, fit90):
    state = dataclasses.replace(fit90.fitted, chosen=fit90.fitted.state.btyd)
    short = pipeline.score(dataclasses.replace(state, horizon_days=30), rows)
    long = pipeline.score(dataclasses.replace(state, horizon_days=365), rows)
    assert np.all(long.expected_purchases >= short.expected_purchases)
    assert np.all(long.p_buy_again >= short.p_buy_again)
    assert np.all(long.predicted_value_12m == short.predicted_value_12m)  # fixed 365 days


def test_scoring_at_a_later_date_ages_every_contact(rows, fit90):
    now, later = pipeline.score(fit90.fitted, rows), pipeline.score(fit90.fitted, rows, as_of_day=AS_OF + 30)
    np.testing.assert_array_equal(later.age_days, now.age_days + 30)


def test_sampled_fit_still_scores_everyone(rows):
    result = pipeline.fit(rows, as_of_day=AS_OF, horizon_days=90, sample_size=1000, seed=3)
    assert result.counts.fit_sample == 1000 and result.counts.backtest_contacts <= 1000
    assert len(pipeline.score(result.fitted, rows).contact_ids) == 2357


# --- not enough data and awkward data ------------------------------------------------------


def _rows(ids, days, spend=None):
    ids, days = np.asarray(ids, dtype=np.int64), np.asarray(days, dtype=np.int64)
    spend = np.full(len(ids), 10.0) if spend is None else np.asarray(spend, dtype=float)
    return pipeline.DayRows(ids, days, spend, np.ones(len(ids), np.int64), np.zeros(len(ids), bool))


@pytest.mark.parametrize(
    ("ids", "days", "verdict"),
    [
        ([], [], pipeline.DataVerdict.NO_PURCHASES),
        ([1, 2], [20_000, 20_000], pipeline.DataVerdict.TOO_FEW_BUYERS),
        (range(299), [19_000] * 299, pipeline.DataVerdict.TOO_FEW_BUYERS),
        (range(300), [20_000 - 179] * 300, pipeline.DataVerdict.TOO_SHORT_HISTORY),
        (range(300), [20_000] * 300, pipeline.DataVerdict.TOO_SHORT_HISTORY),  # all on one day
        (range(300), [20_001] * 300, pipeline.DataVerdict.NO_PURCHASES),  # all after as_of
    ],
)
def test_not_enough_data_verdicts(ids, days, verdict):
    result = pipeline.fit(_rows(list(ids), days), as_of_day=20_000, horizon_days=90)
    assert result.verdict is verdict
    assert result.fitted is None and result.reports == []


def test_horizon_longer_than_history_is_too_short():
    result = pipeline.fit(_rows(range(400), [20_000 - 200] * 400), as_of_day=20_000, horizon_days=200)
    assert result.verdict is pipeline.DataVerdict.TOO_SHORT_HISTORY


def _check_scores(result, rows, *, alive_known=True):
    assert result.verdict is pipeline.DataVerdict.ENOUGH
    chosen = {r.name: r for r in result.reports}[result.fitted.chosen]
    assert chosen.converged
    json.dumps(result.fitted.to_json(), allow_nan=False)
    s = pipeline.score(result.fitted, rows)
    fields = ["p_buy_again", "expected_purchases", "expected_value", "predicted_value_12m"]
    if alive_known:
        fields += ["p_alive", "value_if_active_12m"]
    else:  # unknown (NaN) for everyone, never a made-up number
        assert np.isnan(s.p_alive).all() and np.isnan(s.value_if_active_12m).all()
    for field in fields:
        values = getattr(s, field)
        assert np.isfinite(values).all() and values.min() >= 0, field
    assert s.p_buy_again.max() <= 1 and (not alive_known or s.p_alive.max() <= 1)
    return s


def test_all_one_time_buyers_fall_back_to_a_converged_model():
    rng = np.random.default_rng(0)
    rows = _rows(range(500), 20_000 - rng.integers(0, 400, 500), spend=np.zeros(500))
    result = pipeline.fit(rows, as_of_day=20_000, horizon_days=90)
    reports = {r.name: r for r in result.reports}
    assert not reports["bgnbd"].converged and reports["bgnbd"].reason == "no_repeat_purchases"
    assert result.fitted.chosen == "baseline"
    # Nobody ever came back: Pareto/NBD cannot be fitted, so whether anyone is still active
    # is unknown (BG/NBD would say 100% for every one-time buyer).
    assert not reports["paretonbd"].converged
    s = _check_scores(result, rows, alive_known=False)
    assert np.all(s.p_buy_again == 0.0)  # nobody ever came back


def test_huge_frequencies_and_zero_spend_stay_finite():
    rng = np.random.default_rng(1)
    ids = [np.full(1, i) for i in range(400)]
    days = [20_000 - rng.integers(0, 500, 1) for _ in range(400)]
    for i in range(5):  # five contacts buying every day for two years
        ids.append(np.full(730, 1000 + i))
        days.append(np.arange(20_000 - 729, 20_001))
    for i in range(100):  # some ordinary repeat buyers
        ids.append(np.full(3, 2000 + i))
        days.append(20_000 - rng.choice(400, 3, replace=False))
    ids, days = np.concatenate(ids), np.concatenate(days)
    rows = _rows(ids, days, spend=np.where(rng.random(len(ids)) < 0.5, 0.0, 25.0))
    s = _check_scores(pipeline.fit(rows, as_of_day=20_000, horizon_days=90), rows)
    daily = np.isin(s.contact_ids, np.arange(1000, 1005))
    assert np.all(s.frequency[daily] == 729) and np.all(s.p_alive[daily] > 0.99)
    assert np.all(s.expected_purchases[daily] > 80)  # ~ one purchase day per day for 90 days


def test_duplicate_rows_of_a_day_are_merged(rows, fit90):
    doubled = pipeline.DayRows(*(np.r_[c, c] for c in dataclasses.astuple(rows)))
    a, b = pipeline.score(fit90.fitted, rows), pipeline.score(fit90.fitted, doubled)
    np.testing.assert_array_equal(a.frequency, b.frequency)
    np.testing.assert_array_equal(a.recency_days, b.recency_days)
    repeat = a.frequency > 0  # same days, twice the spend each day: a higher expected value
    assert np.all(b.expected_value[repeat] > a.expected_value[repeat])


# --- explanations --------------------------------------------------------------------------


def test_explain_one_time_buyer_leads_with_never_returned():
    drivers = pipeline.explain(0, 0, 200, 35.5, 0.04)
    assert drivers[0] == ("never_returned", {"days": 200, "p_buy_again": 0.04})
    assert drivers[1] == ("first_order_value", {"amount": 35.5})


def test_explain_overdue_repeat_buyer_leads_with_days_since_last():
    drivers = pipeline.explain(2, 40, 400, 20.0, 0.05)  # usual gap 20 days, silent for 360
    assert drivers[0] == ("days_since_last", {"days": 360, "usual_gap_days": 20, "overdue": True})
    assert drivers[1] == ("bought_on_days", {"count": 3})


def test_explain_frequent_buyer_leads_with_purchase_count():
    drivers = pipeline.explain(30, 300, 305, 20.0, 0.9)  # usual gap 10 days, last 5 days ago
    assert drivers[0] == ("bought_on_days", {"count": 31})
