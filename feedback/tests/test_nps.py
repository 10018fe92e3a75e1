"""NPS arithmetic: pure, no database."""
import pytest

from feedback.nps import Category, NpsCounts, category, counts_from_scores, response_rate


@pytest.mark.parametrize(("score", "expected"), [
    (0, Category.DETRACTOR), (6, Category.DETRACTOR), (7, Category.PASSIVE),
    (8, Category.PASSIVE), (9, Category.PROMOTER), (10, Category.PROMOTER),
])
def test_category_boundaries(score, expected):
    assert category(score) == expected


@pytest.mark.parametrize("score", [-1, 11])
def test_category_refuses_out_of_range(score):
    with pytest.raises(ValueError):
        category(score)


def test_nps_matches_a_hand_computed_example():
    # 10 answers: 5 promoters (9,9,10,10,10), 2 passives (7,8), 3 detractors (0,3,6).
    # %promoters = 50, %detractors = 30 -> NPS = 20.
    counts = counts_from_scores([9, 9, 10, 10, 10, 7, 8, 0, 3, 6])

    assert counts == NpsCounts(promoters=5, passives=2, detractors=3)
    assert counts.total == 10
    assert counts.nps == 20.0


def test_nps_rounds_to_one_decimal_and_can_be_negative():
    # 1 promoter, 0 passives, 2 detractors: (1 - 2) / 3 = -33.33...
    assert NpsCounts(promoters=1, passives=0, detractors=2).nps == -33.3


def test_nps_of_nothing_is_none_not_zero():
    assert NpsCounts().nps is None


def test_response_rate():
    assert response_rate(3, 12) == 0.25
    assert response_rate(0, 0) is None
