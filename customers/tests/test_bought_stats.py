"""The arithmetic of "also bought" and reorder intervals (customers.bought.stats), by hand."""
import datetime as dt
import importlib
import sys

import pytest

from customers.bought.stats import (
    PairScore,
    contact_interval,
    median,
    pairs_from_baskets,
    product_interval,
    reorder_interval,
)

D = dt.date


def test_the_module_needs_no_django():
    sys.modules.pop("customers.bought.stats", None)
    module = importlib.import_module("customers.bought.stats")
    assert not any(name.startswith("django") for name in vars(module))
    with open(module.__file__) as file:
        source = file.read()
    assert "django" not in source.lower().replace("no django", "")


def test_pairs_by_hand():
    # 5 contacts. A: 1,2,3,4  B: 1,2,3  C: 4,5  -> N = 5.
    baskets = {1: {"A", "B"}, 2: {"A", "B"}, 3: {"A", "B"}, 4: {"A", "C"}, 5: {"C"}}
    ids = {"A": 1, "B": 2, "C": 3}
    scores = pairs_from_baskets({c: {ids[p] for p in ps} for c, ps in baskets.items()},
                                min_support=3, per_product=10)
    # A&B: 3 contacts. conf(A->B) = 3/4, conf(B->A) = 3/3; lift = 3*5/(4*3) = 1.25.
    assert scores == [PairScore(1, 2, 3, 0.75, 1.25), PairScore(2, 1, 3, 1.0, 1.25)]


def test_pairs_below_the_minimum_support_are_left_out():
    baskets = {1: {1, 2}, 2: {1, 2}, 3: {1}}
    assert pairs_from_baskets(baskets, min_support=3, per_product=10) == []
    assert [(s.product, s.other, s.contacts) for s in
            pairs_from_baskets(baskets, min_support=2, per_product=10)] == [(1, 2, 2), (2, 1, 2)]


def test_ranking_is_lift_then_support_then_id_and_capped_per_product():
    # Product 1 with 2 (lift 2), 3 (lift 1.33...), 4 (lift 2, support 2).
    baskets = {1: {1, 2, 4}, 2: {1, 2, 4}, 3: {1, 3}, 4: {3}, 5: {2, 3}, 6: {3}}
    scores = [s for s in pairs_from_baskets(baskets, min_support=1, per_product=2)
              if s.product == 1]
    # n=6; n1=3 n2=3 n3=4 n4=2; 1&2: 2 -> 2*6/9=1.33; 1&4: 2 -> 2*6/6=2; 1&3: 1 -> 6/12=.5
    assert [(s.other, s.contacts, round(s.lift, 3)) for s in scores] == [(4, 2, 2.0),
                                                                          (2, 2, 1.333)]


@pytest.mark.parametrize(("values", "expected"), [([3], 3), ([1, 9, 2], 2), ([4, 1, 3, 2], 2.5)])
def test_median(values, expected):
    assert median(values) == expected


def test_a_contacts_interval_is_the_median_gap_between_distinct_days():
    days = [D(2026, 1, 1), D(2026, 1, 31), D(2026, 1, 31), D(2026, 3, 12), D(2026, 3, 22)]
    # gaps 30, 40, 10 -> 30
    assert contact_interval(days) == 30
    assert contact_interval([D(2026, 1, 1), D(2026, 1, 1)]) is None


def test_a_products_interval_is_the_median_of_contacts_medians_with_enough_of_them():
    heavy = [D(2026, 1, 1) + dt.timedelta(days=10 * i) for i in range(20)]  # 10, many times
    others = [[D(2026, 1, 1), D(2026, 2, 10)], [D(2026, 1, 1), D(2026, 2, 20)]]  # 40, 50
    assert product_interval([heavy, *others, [D(2026, 1, 1)]], min_contacts=3) == 40
    assert product_interval(others, min_contacts=3) is None


def test_the_reminder_waits_the_contacts_own_interval_else_the_products():
    assert reorder_interval([D(2026, 1, 1), D(2026, 1, 21)], 60) == 20
    assert reorder_interval([D(2026, 1, 1)], 60) == 60
    assert reorder_interval([D(2026, 1, 1)], None) is None
