"""The scoring models reproduce the published CDNOW results (no database needed).

Fader, Hardie & Lee (2005, Marketing Science) for BG/NBD, Fader & Hardie's Pareto/NBD note and
the Gamma-Gamma note for the other two; data from the `lifetimes` dev dependency.
"""

import numpy as np
import pytest

from customers.scoring.model import bgnbd, gammagamma, paretonbd, summary
from customers.tests.data import cdnow

CALIBRATION_END = "1997-09-30"  # 39 weeks after the cohort's first day, 1997-01-01
HOLDOUT_END = "1998-06-30"


@pytest.fixture(scope="module")
def cdnow_summary():
    data = cdnow.summary()
    return data["frequency"], data["recency"], data["T"]


@pytest.fixture(scope="module")
def bgnbd_fit(cdnow_summary):
    return bgnbd.fit_bgnbd(*cdnow_summary)


@pytest.fixture(scope="module")
def paretonbd_fit(cdnow_summary):
    return paretonbd.fit_paretonbd(*cdnow_summary)


@pytest.fixture(scope="module")
def calibration():
    raw = cdnow.sample_transactions()
    histories = summary.histories(
        raw["customer"], raw["day"], CALIBRATION_END, unit="weeks", amounts=raw["amount"]
    )
    holdout = summary.purchase_days_between(
        raw["customer"], raw["day"], CALIBRATION_END, HOLDOUT_END, among=histories.customer_ids
    )
    return histories, holdout


def test_bgnbd_parameters_match_the_paper(bgnbd_fit):
    fitted = (bgnbd_fit.r, bgnbd_fit.alpha, bgnbd_fit.a, bgnbd_fit.b)
    assert fitted == pytest.approx((0.243, 4.414, 0.793, 2.426), abs=5e-4)
    assert bgnbd_fit.converged is True


def test_bgnbd_log_likelihood_matches_the_paper(bgnbd_fit):
    assert bgnbd_fit.log_likelihood == pytest.approx(-9582.43, abs=0.01)


def test_bgnbd_log_likelihood_at_published_parameters_sums_per_customer_terms(cdnow_summary):
    published = bgnbd.BgNbdParams(0.243, 4.414, 0.793, 2.426)
    assert bgnbd.log_likelihood(published, *cdnow_summary).sum() == pytest.approx(
        -9582.43, abs=0.01
    )


def test_bgnbd_customer_1_expects_1_226_purchases_in_39_weeks():
    published = bgnbd.BgNbdParams(0.243, 4.414, 0.793, 2.426)
    expected = bgnbd.conditional_expected_purchases(published, 39, 2, 30.43, 38.86)
    assert expected[0] == pytest.approx(1.226, abs=1e-3)


def test_paretonbd_parameters_match_the_published_fit(paretonbd_fit):
    assert (paretonbd_fit.r, paretonbd_fit.s) == pytest.approx((0.553, 0.606), abs=5e-3)
    assert (paretonbd_fit.alpha, paretonbd_fit.beta) == pytest.approx((10.578, 11.669), abs=0.1)
    assert paretonbd_fit.converged is True


def test_paretonbd_log_likelihood_matches_the_published_fit(paretonbd_fit):
    assert paretonbd_fit.log_likelihood == pytest.approx(-9594.97, abs=0.05)


def test_gammagamma_parameters_match_the_published_fit():
    data = cdnow.summary_with_spend()
    fit = gammagamma.fit_gammagamma(data["x"], data["zbar"])
    assert (fit.p, fit.q, fit.gamma) == pytest.approx((6.25, 3.74, 15.44), abs=0.01)
    assert fit.converged is True


def test_summary_helper_rebuilds_the_published_calibration_summary(calibration):
    histories, _ = calibration
    published = cdnow.summary()
    assert np.array_equal(histories.customer_ids, published["ID"].astype(int))
    assert np.array_equal(histories.frequency, published["frequency"])
    assert np.allclose(histories.recency, published["recency"], atol=0.005)  # file has 2 decimals
    assert np.allclose(histories.T, published["T"], atol=0.005)


def test_summary_helper_rebuilds_the_published_repeat_spend(calibration):
    histories, _ = calibration
    published = cdnow.summary_with_spend()
    assert np.allclose(histories.monetary_value, published["zbar"], atol=0.005)


def test_holdout_has_1882_repeat_purchase_days(calibration):
    _, holdout = calibration
    assert holdout.sum() == 1882


def test_bgnbd_holdout_forecast_is_about_1654(calibration):
    histories, _ = calibration
    fit = bgnbd.fit_bgnbd(histories.frequency, histories.recency, histories.T)
    forecast = bgnbd.conditional_expected_purchases(
        fit, 39, histories.frequency, histories.recency, histories.T
    )
    assert forecast.sum() == pytest.approx(1654, rel=0.01)


def test_bgnbd_cumulative_week_78_forecast_is_about_4_percent_under_actual(calibration):
    histories, holdout = calibration
    fit = bgnbd.fit_bgnbd(histories.frequency, histories.recency, histories.T)
    weeks_to_end = (np.datetime64(HOLDOUT_END) - histories.first_day).astype(float) / 7
    forecast = bgnbd.expected_purchases(fit, weeks_to_end).sum()
    actual = histories.frequency.sum() + holdout.sum()
    assert actual == 4339
    assert 0.02 < 1 - forecast / actual < 0.06
