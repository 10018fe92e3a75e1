"""Choosing a test's winner (pure, no database): the highest rate wins; best against runner-up
with Newcombe's interval (Newcombe 1998, Table II, method 10) says whether it is clear."""
import subprocess
import sys

import pytest

from campaigns.uplift import GroupStats
from campaigns.variant_choice import Arm, ChoiceReason, choose, ranked


@pytest.mark.parametrize(("a", "n", "b", "m", "low", "high", "reason"), [
    # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10.
    (56, 70, 48, 80, 0.0524, 0.3339, ChoiceReason.CLEAR),
    (9, 10, 3, 10, 0.1705, 0.8090, ChoiceReason.CLEAR),
    (5, 56, 0, 29, -0.0381, 0.1926, ChoiceReason.UNCLEAR),
])
def test_the_best_against_the_runner_up_matches_newcombes_published_intervals(
        a, n, b, m, low, high, reason):
    choice = choose([Arm(key=1, contacts=m, responders=b), Arm(key=2, contacts=n, responders=a)])

    assert (choice.winner, choice.runner_up, choice.reason) == (2, 1, reason)
    assert choice.comparison.estimate == pytest.approx(a / n - b / m)
    assert choice.comparison.low == pytest.approx(low, abs=5e-5)
    assert choice.comparison.high == pytest.approx(high, abs=5e-5)


def test_each_arm_gets_its_uplift_against_the_control():
    # Newcombe's 56/70 against 48/80 again, the second as the held-out group.
    choice = choose([Arm(1, 70, 56), Arm(2, 70, 30)], control=GroupStats(80, 48))

    assert choice.uplifts[1].low == pytest.approx(0.0524, abs=5e-5)
    assert choice.uplifts[1].high == pytest.approx(0.3339, abs=5e-5)
    assert choice.uplifts[2].estimate == pytest.approx(30 / 70 - 0.6)


def test_ties_go_to_the_larger_group_then_the_first_and_empty_arms_come_last():
    arms = [Arm(3, 0, 0), Arm(2, 20, 5), Arm(1, 10, 5), Arm(4, 20, 5)]

    assert [arm.key for arm in ranked(arms)] == [1, 2, 4, 3]


def test_nothing_sent_is_said_and_the_first_arm_is_taken():
    choice = choose([Arm(7, 0, 0), Arm(5, 0, 0)])

    assert (choice.winner, choice.reason, choice.comparison.estimate) == (5, ChoiceReason.NO_DATA,
                                                                         None)


def test_one_arm_is_not_a_test():
    with pytest.raises(ValueError):
        choose([Arm(1, 10, 1)])


def test_the_module_imports_no_django():
    code = ("import sys, campaigns.variant_choice; "
            "sys.exit(any(name.startswith('django') for name in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
