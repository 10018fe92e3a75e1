"""Time the nightly scoring pipeline on synthetic contacts: fit (sample) + backtest + score all.

Simulates purchase days for N contacts (default 1,000,000) from a BG/NBD with known parameters
(about ten purchase days per contact, joined over the last two years), adds spend, items and
coupon use, then times pipeline.fit (on a sample of --sample contacts, default 200,000) and
pipeline.score on every contact, and prints the backtest table and the peak memory (RSS).
Same-run baseline, timed the same way: a plain BG/NBD on the same rows (summary.histories,
bgnbd.fit_bgnbd on as many contacts as the sample, scores.score for all), with the ratio
pipeline / plain BG/NBD: what the backtest, the other models and the choice cost on top.

    .venv/bin/python bench/bench_scoring_pipeline.py [--contacts 1000000] [--sample 200000]
"""

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script from anywhere

from customers.scoring.model import bgnbd, pipeline, simulate, summary
from customers.scoring.model import scores as btyd_scores
from customers.scoring.model.bgnbd import BgNbdParams

TRUTH = BgNbdParams(r=0.5, alpha=15.0, a=0.3, b=3.0)  # ~ a purchase a month, slow dropout
AS_OF = np.datetime64("2025-01-01")
HORIZON_DAYS = 90


def synthetic_rows(n: int, seed: int = 0) -> pipeline.DayRows:
    """DayRows for n contacts with ids 1..n (spend depends on the contact, items ~ 1 + Poisson)."""
    rng = np.random.default_rng(seed)
    first_days = AS_OF - rng.integers(1, 731, n).astype("timedelta64[D]")
    owner, days = simulate.bgnbd_transactions(TRUTH, first_days, AS_OF, rng)
    typical_spend = rng.gamma(4.0, 10.0, n)  # each contact's own mean order value
    spend = rng.gamma(6.0, typical_spend[owner] / 6.0)
    return pipeline.DayRows(
        contact_ids=(owner + 1).astype(np.int64),
        days=days.astype(np.int64),
        spend=spend,
        items=1 + rng.poisson(1.0, len(owner)),
        coupon=rng.random(len(owner)) < 0.1,
    )


def _timed(label, fn):
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    print(f"{label:<45} {elapsed:8.2f} s")
    return result, elapsed


def plain_bgnbd(rows: pipeline.DayRows, sample: int) -> tuple[float, float]:
    """The baseline: (seconds to summarise and fit a plain BG/NBD on `sample` contacts,
    seconds to summarise and score every contact with it)."""
    def fit():
        h = summary.histories(rows.contact_ids, rows.days.astype("datetime64[D]"), AS_OF)
        return bgnbd.fit_bgnbd(h.frequency[:sample], h.recency[:sample], h.T[:sample])

    def score_all():
        h = summary.histories(rows.contact_ids, rows.days.astype("datetime64[D]"), AS_OF)
        return btyd_scores.score(params, HORIZON_DAYS, h.frequency, h.recency, h.T)

    params, fit_s = _timed(f"  baseline: plain BG/NBD fit on {sample:,} contacts", fit)
    _, score_s = _timed("  baseline: plain BG/NBD score all", score_all)
    return fit_s, score_s


def _print_reports(result: pipeline.FitResult) -> None:
    print(f"verdict {result.verdict.value}, chosen {result.fitted.chosen}, "
          f"BTYD for p_alive {result.fitted.state.btyd}")
    for report in result.reports:
        m = report.metrics
        print(f"  {report.name:<10} {report.reason:<22} auc {m.auc:.4f}  one-time "
              f"{m.auc_one_time or float('nan'):.4f}  brier {m.brier:.4f}  buyers "
              f"{m.predicted_buyers:.0f}/{m.actual_buyers}")
    print("stages: " + ", ".join(f"{k} {v:.2f}s" for k, v in result.durations.items()))
    print(f"counts: {result.counts.to_json()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--sample", type=int, default=200_000)
    args = parser.parse_args()
    rows, _ = _timed(f"simulate {args.contacts:,} contacts", lambda: synthetic_rows(args.contacts))
    print(f"{len(rows.days):,} day rows")
    as_of = int(AS_OF.astype(np.int64))
    gc.collect()
    rss_before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tracemalloc.start()  # numpy reports its buffers to tracemalloc: peak beyond the input rows
    result, fit_s = _timed(
        "fit (sample) + backtest + choose",
        lambda: pipeline.fit(rows, as_of_day=as_of, horizon_days=HORIZON_DAYS,
                             sample_size=args.sample),
    )
    scores, score_s = _timed(
        f"score all {args.contacts:,} contacts", lambda: pipeline.score(result.fitted, rows)
    )
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"{'fit + score':<45} {fit_s + score_s:8.2f} s")
    base_fit_s, base_score_s = plain_bgnbd(rows, min(args.sample, args.contacts))
    print(f"pipeline / plain BG/NBD: fit {fit_s / base_fit_s:.1f}x, score all "
          f"{score_s / base_score_s:.1f}x, both "
          f"{(fit_s + score_s) / (base_fit_s + base_score_s):.1f}x")
    _print_reports(result)
    print(f"mean p_buy_again {scores.p_buy_again.mean():.4f}, mean p_alive "
          f"{scores.p_alive.mean():.4f}, total expected purchases "
          f"{scores.expected_purchases.sum():,.0f}")
    rows_mb = sum(np.asarray(c).nbytes for c in vars(rows).values()) / 2**20
    print(f"input rows {rows_mb:,.0f} MB; peak allocated by fit + score on top of them "
          f"{peak / 2**20:,.0f} MB; max RSS before fit (simulation) {rss_before_mb:,.0f} MB, "
          f"overall {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MB")


if __name__ == "__main__":
    main()
