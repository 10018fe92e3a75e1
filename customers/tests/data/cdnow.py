"""Loaders for the CDNOW data shipped inside the `lifetimes` dev dependency (tests only).

lifetimes' own loader breaks on current setuptools, so we read its files directly. Importing
`lifetimes.datasets` imports lifetimes itself, which is fine in tests and never done by product
code.
"""

import importlib.resources
import warnings
from functools import cache

import numpy as np

with warnings.catch_warnings():
    # lifetimes 0.11.3 sets a pandas option that pandas 3 deprecates, at import time.
    warnings.simplefilter("ignore")
    import lifetimes.datasets  # noqa: F401 - imported for its package files (below), with its warning silenced


def _file(name: str):
    return importlib.resources.files("lifetimes.datasets") / name


@cache
def summary() -> dict[str, np.ndarray]:
    """cdnow_customers_summary.csv: ID, frequency, recency, T (weeks), 2,357 customers."""
    table = np.genfromtxt(_file("cdnow_customers_summary.csv"), delimiter=",", names=True)
    return {name: table[name] for name in table.dtype.names}


@cache
def summary_with_spend() -> dict[str, np.ndarray]:
    """cdnow_customers_summary_with_transactions.csv: ID, x, t_x, T, zbar (mean repeat spend)."""
    table = np.genfromtxt(
        _file("cdnow_customers_summary_with_transactions.csv"), delimiter=",", names=True
    )
    return {name: table[name] for name in table.dtype.names}


@cache
def sample_transactions() -> dict[str, np.ndarray]:
    """CDNOW_sample.txt: one row per purchase of the 1/10 sample (2,357 customers).

    Columns: master id, sample id (1..2357, the ID of the summary files), date YYYYMMDD,
    number of CDs, dollar value.
    """
    raw = np.loadtxt(_file("CDNOW_sample.txt"), dtype=str)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 2]], dtype="datetime64[D]")
    return {"customer": raw[:, 1].astype(int), "day": dates, "amount": raw[:, 4].astype(float)}


@cache
def master_transactions() -> dict[str, np.ndarray]:
    """CDNOW_master.txt: every purchase of all 23,570 customers (id, day, CDs, dollars)."""
    raw = np.loadtxt(_file("CDNOW_master.txt"), dtype=str, skiprows=1)
    dates = np.array([f"{d[:4]}-{d[4:6]}-{d[6:]}" for d in raw[:, 1]], dtype="datetime64[D]")
    return {"customer": raw[:, 0].astype(int), "day": dates, "items": raw[:, 2].astype(int),
            "amount": raw[:, 3].astype(float)}
