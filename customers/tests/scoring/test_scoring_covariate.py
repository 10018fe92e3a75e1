"""The covariate model: learns from its features, stays finite, round-trips through JSON."""

import json

import numpy as np

from customers.scoring.model import covariate


def _inputs(n, rng, **overrides):
    x = rng.integers(0, 4, n).astype(float)
    age = rng.uniform(10, 400, n)
    fields = {
        "frequency": x,
        "recency": np.where(x > 0, age * rng.random(n), 0.0),
        "age": age,
        "first_spend": rng.gamma(2.0, 20.0, n),
        "first_items": rng.integers(1, 5, n).astype(float),
        "mean_spend": rng.gamma(2.0, 20.0, n),
        "mean_items": rng.uniform(1, 4, n),
        "coupon_share": rng.random(n),
        "first_coupon": (rng.random(n) < 0.2).astype(float),
        "bgnbd_p": rng.uniform(0.05, 0.6, n),
    }
    fields.update(overrides)
    return covariate.Inputs(**fields)


def test_model_learns_that_first_order_value_predicts_a_return():
    rng = np.random.default_rng(0)
    inputs = _inputs(4000, rng)
    bought = rng.random(4000) < np.where(inputs.first_spend > 40, 0.5, 0.1)
    model = covariate.train(inputs, bought, window_days=90)
    assert model.converged and model.reason == "converged"
    low = _inputs(500, rng, first_spend=np.full(500, 10.0))
    high = _inputs(500, rng, first_spend=np.full(500, 150.0))
    assert covariate.predict(model, high).mean() > covariate.predict(model, low).mean() + 0.2


def test_training_window_rate_is_reproduced_on_average():
    rng = np.random.default_rng(1)
    inputs = _inputs(3000, rng)
    bought = rng.random(3000) < 0.3
    model = covariate.train(inputs, bought, window_days=90)
    # maximum-likelihood logistic regression with an intercept: mean prediction ~ observed rate
    assert abs(covariate.predict(model, inputs).mean() - bought.mean()) < 0.002


def test_json_round_trip_gives_identical_predictions():
    rng = np.random.default_rng(2)
    inputs = _inputs(1000, rng)
    model = covariate.train(inputs, rng.random(1000) < 0.2, window_days=30)
    restored = covariate.CovariateModel.from_json(json.loads(json.dumps(model.to_json())))
    assert restored == model
    np.testing.assert_array_equal(covariate.predict(restored, inputs), covariate.predict(model, inputs))


def test_too_little_training_data_gives_an_unusable_model():
    rng = np.random.default_rng(3)
    inputs = _inputs(200, rng)
    model = covariate.train(inputs, np.zeros(200, dtype=bool), window_days=90)  # nobody bought
    assert not model.converged and model.reason == "too_little_training_data"
    assert np.all(covariate.predict(model, inputs) == 0.5)


def test_awkward_inputs_give_finite_probabilities():
    n = 6
    inputs = covariate.Inputs(
        frequency=np.array([0, 0, 1e6, 3, 0, 1]),
        recency=np.array([0, 0, 10, 0, 0, 5]),
        age=np.array([0, 0, 10, 1e5, 3, 5]),
        first_spend=np.array([0, np.nan, np.inf, 1e12, -5, 0]),
        first_items=np.ones(n),
        mean_spend=np.zeros(n),
        mean_items=np.ones(n),
        coupon_share=np.zeros(n),
        first_coupon=np.zeros(n),
        bgnbd_p=np.array([0, 1, np.nan, 0.5, 1e-300, 1 - 1e-17]),
    )
    assert np.isfinite(covariate.design(inputs)).all()
    rng = np.random.default_rng(4)
    model = covariate.train(_inputs(500, rng), rng.random(500) < 0.3, window_days=90)
    p = covariate.predict(model, inputs)
    assert np.isfinite(p).all() and (p >= 0).all() and (p <= 1).all()
