"""Time the scoring math on synthetic customers: summary + BG/NBD fit + scoring.

Simulates purchase rows for N customers (default 1,000,000) from known BG/NBD parameters with
time in days, then times:
  1. summary.histories: raw (customer, day) rows -> (x, t_x, T) for every customer,
  2. bgnbd.fit_bgnbd on all customers (identical histories grouped inside),
  3. scores.score: P(alive), E[purchases in 90 days], P(buy in 90 days) for every customer,
and checks that the fit recovers the parameters. Each figure has a same-run baseline and the
ratio to it: the summary against a plain numpy reference (np.unique over packed
(customer, day) keys; same result, checked), the scoring against E[Y] row by row, ungrouped;
and lifetimes 0.11.3 (a dev dependency) is timed on the first M customers (default 100,000;
it is far slower) for the fit and the scores, against ours on the same M.

    .venv/bin/python bench/bench_scoring_math.py [--customers 1000000] [--lifetimes 100000]
"""

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from customers.scoring.model import bgnbd, scores, simulate, summary
from customers.scoring.model.bgnbd import BgNbdParams

TRUTH = BgNbdParams(r=0.25, alpha=30.0, a=0.8, b=2.5)  # one purchase every ~4 months, in days
AS_OF = np.datetime64("2025-01-01")
HORIZON_DAYS = 90


def _timed(label, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<55} {elapsed:8.2f} s")
    return result, elapsed


def _simulate(n, seed=0):
    rng = np.random.default_rng(seed)
    first_days = AS_OF - rng.integers(1, 731, n).astype(
        "timedelta64[D]"
    )  # joined in the last 2 years
    return simulate.bgnbd_transactions(TRUTH, first_days, AS_OF, rng)


def _reference_histories(customer, day):
    """Plain numpy (x, t_x, T) of every customer, sorted by id: the summary's baseline."""
    day = np.asarray(day, dtype="datetime64[D]").astype(np.int64)
    cutoff = AS_OF.astype(np.int64)
    kept = day <= cutoff
    customer, day = np.asarray(customer, dtype=np.int64)[kept], day[kept]
    lowest = day.min()
    # One int64 key per (customer, day); the 2**20-day span (2,870 years) is never reached.
    pairs = np.unique((customer << 20) + (day - lowest))
    ids, starts, counts = np.unique(pairs >> 20, return_index=True, return_counts=True)
    days = (pairs & (2**20 - 1)) + lowest
    first, last = days[starts], days[starts + counts - 1]
    return (ids, (counts - 1).astype(float), (last - first).astype(float),
            (cutoff - first).astype(float))


def _ratio(ours, baseline):
    return f"{ours / baseline:.1f}x" if baseline else "-"


def _report_recovery(fitted):
    print(f"fit: converged={fitted.converged} iterations={fitted.iterations} ({fitted.message})")
    for name in ("r", "alpha", "a", "b"):
        true, got = getattr(TRUTH, name), getattr(fitted, name)
        print(f"  {name:<6} true {true:8.4f}  fitted {got:8.4f}  ({(got - true) / true:+.1%})")


def _time_lifetimes(h, m):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from lifetimes import BetaGeoFitter
    x, t_x, age = h.frequency[:m], h.recency[:m], h.T[:m]
    ours, ours_s = _timed(
        f"ours: fit on the first {m:,} customers", lambda: bgnbd.fit_bgnbd(x, t_x, age)
    )
    _, ours_score_s = _timed(
        f"ours: scores.score for the same {m:,}",
        lambda: scores.score(ours, HORIZON_DAYS, x, t_x, age),
    )
    fitter = BetaGeoFitter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, theirs_s = _timed(
            f"lifetimes: BetaGeoFitter.fit on the same {m:,}", lambda: fitter.fit(x, t_x, age)
        )
        _, predict_s = _timed(
            f"lifetimes: P(alive) + E[Y(90)] for {m:,}",
            lambda: (
                fitter.conditional_probability_alive(x, t_x, age),
                fitter.conditional_expected_number_of_purchases_up_to_time(
                    HORIZON_DAYS, x, t_x, age
                ),
            ),
        )
    p = fitter.params_
    print(
        f"  lifetimes params r={p['r']:.4f} alpha={p['alpha']:.3f} a={p['a']:.4f} b={p['b']:.4f}; "
        f"ours r={ours.r:.4f} alpha={ours.alpha:.3f} a={ours.a:.4f} b={ours.b:.4f}"
    )
    print(f"  fit time ratio lifetimes/ours on {m:,} customers: {theirs_s / ours_s:.0f}x")
    print(f"  scoring time ratio lifetimes (P(alive) + E[Y] only)/ours (+ P(buy)) on {m:,}: "
          f"{_ratio(predict_s, ours_score_s)}")


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes", type=int, default=100_000, help="0 to skip lifetimes")
    args = parser.parse_args()

    (customer, day), _ = _timed(
        f"simulate purchase rows for {args.customers:,} customers (not counted)",
        lambda: _simulate(args.customers),
    )
    print(f"  {len(customer):,} purchase rows")
    h, t_summary = _timed(
        "summary.histories (rows -> x, t_x, T)", lambda: summary.histories(customer, day, AS_OF)
    )
    reference, t_reference = _timed(
        "  baseline: plain numpy (unique customer-days, per-customer min/max/count)",
        lambda: _reference_histories(customer, day),
    )
    same = all(np.array_equal(a, b) for a, b in
               zip(reference, (h.customer_ids, h.frequency, h.recency, h.T)))
    print(f"  summary / numpy baseline: {_ratio(t_summary, t_reference)}; same histories: {same}")
    if not same:
        sys.exit("the summary and the numpy reference disagree")
    distinct = len(np.unique(np.c_[h.frequency, h.recency, h.T].view(np.dtype((np.void, 24)))))
    print(f"  {len(h.customer_ids):,} customers, {distinct:,} distinct histories")
    fitted, t_fit = _timed(
        "bgnbd.fit_bgnbd (grouping included)", lambda: bgnbd.fit_bgnbd(h.frequency, h.recency, h.T)
    )
    result, t_score = _timed(
        f"scores.score: P(alive), E[Y({HORIZON_DAYS}d)], P(buy) for all",
        lambda: scores.score(fitted, HORIZON_DAYS, h.frequency, h.recency, h.T),
    )
    print(f"{'total summary + fit + score':<55} {t_summary + t_fit + t_score:8.2f} s")
    _, t_direct = _timed(
        "  (for comparison) E[Y] row by row, ungrouped, vectorised",
        lambda: bgnbd.conditional_expected_purchases(
            fitted, HORIZON_DAYS, h.frequency, h.recency, h.T
        ),
    )
    print(f"  scoring / row-by-row E[Y] baseline: {_ratio(t_score, t_direct)}")
    _report_recovery(fitted)
    print(
        f"  mean P(buy in {HORIZON_DAYS}d) {result.probability_purchase.mean():.4f}, "
        f"mean P(alive) {result.probability_alive.mean():.4f}"
    )
    if args.lifetimes:
        try:
            _time_lifetimes(h, min(args.lifetimes, len(h.customer_ids)))
        except ImportError:
            print("lifetimes is not installed (requirements-dev.txt): no baseline for the fit")
    else:
        print("--lifetimes 0: no baseline for the fit")


if __name__ == "__main__":
    main()
