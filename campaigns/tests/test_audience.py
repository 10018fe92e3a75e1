"""Audience criteria: strict validation, one set-based query, and reasons people can read."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from campaigns.audience import (AudienceCriteria, audience_contacts, audience_sample,
                                audience_size)
from campaigns.models import Suppression
from campaigns.suppression import address_suppress
from customers.models import ContactScore, ScoringRun
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase

NOW = timezone.now()


def _codes(data) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as caught:
        AudienceCriteria.from_json(data)
    return {field: [error.code for error in errors]
            for field, errors in caught.value.error_dict.items()}


# --- Validation (no database) ---------------------------------------------------------------

def test_full_criteria_round_trip_through_json():
    data = {"stages": ["one_time", "repeat"], "at_risk": False, "p_buy_again_min": 0.2,
            "p_buy_again_max": 1, "p_alive_min": 0.5, "days_since_first_min": 10,
            "days_since_last_max": 365, "total_spent_min": "100.50", "purchase_count_max": 3,
            "owner_ids": [4, 2]}

    criteria = AudienceCriteria.from_json(data)

    assert criteria.stages == ("one_time", "repeat")
    assert criteria.total_spent_min == Decimal("100.50")
    assert criteria.p_buy_again_max == 1.0
    assert criteria.consent_required is True
    assert criteria.to_json() == {**data, "p_buy_again_max": 1.0}
    assert AudienceCriteria.from_json(criteria.to_json()) == criteria


def test_empty_criteria_mean_everyone_with_consent():
    criteria = AudienceCriteria.from_json({})

    assert criteria == AudienceCriteria()
    assert criteria.to_json() == {}


def test_unknown_keys_are_named():
    assert _codes({"stage": ["repeat"], "vip": True}) == {
        "stage": ["unknown_key"], "vip": ["unknown_key"]}


@pytest.mark.parametrize(("data", "expected"), [
    ({"p_buy_again_min": "0.5"}, {"p_buy_again_min": ["invalid_probability"]}),
    ({"p_alive_max": 1.5}, {"p_alive_max": ["invalid_probability"]}),
    ({"p_alive_min": -0.1}, {"p_alive_min": ["invalid_probability"]}),
    ({"p_buy_again_min": True}, {"p_buy_again_min": ["invalid_probability"]}),
    ({"days_since_last_min": -1}, {"days_since_last_min": ["invalid_count"]}),
    ({"days_since_first_max": 2.5}, {"days_since_first_max": ["invalid_count"]}),
    ({"purchase_count_min": "2"}, {"purchase_count_min": ["invalid_count"]}),
    ({"total_spent_min": "ten"}, {"total_spent_min": ["invalid_amount"]}),
    ({"total_spent_max": -5}, {"total_spent_max": ["invalid_amount"]}),
    ({"total_spent_max": "NaN"}, {"total_spent_max": ["invalid_amount"]}),
    ({"at_risk": "yes"}, {"at_risk": ["invalid_bool"]}),
    ({"stages": "repeat"}, {"stages": ["invalid_stages"]}),
    ({"stages": []}, {"stages": ["invalid_stages"]}),
    ({"stages": ["repeat", "vip"]}, {"stages": ["unknown_stage"]}),
    ({"owner_ids": [1, "2"]}, {"owner_ids": ["invalid_owner_ids"]}),
    ({"owner_ids": []}, {"owner_ids": ["invalid_owner_ids"]}),
    ({"consent_required": False}, {"consent_required": ["consent_required"]}),
])
def test_bad_values_are_reported_under_their_field(data, expected):
    assert _codes(data) == expected


@pytest.mark.parametrize("name", ["p_buy_again", "p_alive", "days_since_first", "days_since_last",
                                  "total_spent", "purchase_count"])
def test_minimum_above_maximum_is_refused(name):
    assert _codes({f"{name}_min": 1, f"{name}_max": 0}) == {f"{name}_min": ["min_above_max"]}


def test_every_problem_is_reported_at_once():
    assert _codes({"p_alive_min": 2, "stages": ["x"], "color": 1}) == {
        "p_alive_min": ["invalid_probability"], "stages": ["unknown_stage"],
        "color": ["unknown_key"]}


def test_criteria_that_are_not_an_object_are_refused():
    with pytest.raises(ValidationError) as caught:
        AudienceCriteria.from_json(["repeat"])

    assert caught.value.code == "invalid"


# --- The query ------------------------------------------------------------------------------

def _contact(*, days_ago=(), consent=True, amount="10.00", **fields):
    contact = ContactFactory(**fields)
    for days in days_ago:
        record_purchase(contact, days_ago=days, amount=amount)
    if consent:
        contact_set_consent(contact=contact, consent=True, source="test")
    contact.refresh_from_db()
    return contact


def _ids(criteria: AudienceCriteria) -> set[int]:
    return set(audience_contacts(criteria, now=NOW).values_list("pk", flat=True))


def _score_run(scores: dict, *, published=True) -> ScoringRun:
    run = ScoringRun.objects.create(
        trigger=ScoringRun.Trigger.COMMAND, as_of=NOW.date(), horizon_days=90, publish=published,
        status=ScoringRun.Status.SUCCEEDED, finished_at=NOW)
    ContactScore.objects.bulk_create(
        ContactScore(run=run, contact=contact, scored_at=NOW, p_buy_again=p_buy, p_alive=p_alive,
                     expected_purchases=1, expected_value=10, predicted_value_12m=10,
                     frequency=0, recency_days=0, age_days=1)
        for contact, (p_buy, p_alive) in scores.items())
    return run


@pytest.mark.django_db
def test_stages_select_and_consent_is_required():
    prospect = _contact()
    one_time = _contact(days_ago=[10])
    repeat = _contact(days_ago=[10, 50])
    _contact(days_ago=[10], consent=False)

    assert _ids(AudienceCriteria(stages=("one_time",))) == {one_time.pk}
    assert _ids(AudienceCriteria(stages=("prospect", "repeat"))) == {prospect.pk, repeat.pk}
    assert _ids(AudienceCriteria()) == {prospect.pk, one_time.pk, repeat.pk}


@pytest.mark.django_db
def test_suppressed_addresses_are_never_in_whatever_their_case():
    kept = _contact(days_ago=[10])
    gone = _contact(days_ago=[10])
    address_suppress(email=gone.email.upper(), reason=Suppression.Reason.UNSUBSCRIBED)

    assert _ids(AudienceCriteria()) == {kept.pk}


@pytest.mark.django_db
def test_at_risk_means_repeat_clients_silent_longer_than_the_setting(settings):
    settings.CRM_AT_RISK_MIN_DAYS = 90
    at_risk = _contact(days_ago=[100, 200])
    recent_repeat = _contact(days_ago=[80, 200])
    lapsed_one_timer = _contact(days_ago=[200])

    assert _ids(AudienceCriteria(at_risk=True)) == {at_risk.pk}
    assert _ids(AudienceCriteria(at_risk=False, stages=("one_time", "repeat"))) == {
        recent_repeat.pk, lapsed_one_timer.pk}


@pytest.mark.django_db
def test_days_since_last_purchase_counts_whole_days():
    forty = _contact(days_ago=[40.2])
    twenty_nine = _contact(days_ago=[29.9])
    _contact()  # a prospect has no last purchase: never in a days range

    assert _ids(AudienceCriteria(days_since_last_min=30)) == {forty.pk}
    assert _ids(AudienceCriteria(days_since_last_max=29)) == {twenty_nine.pk}
    assert _ids(AudienceCriteria(days_since_last_min=40, days_since_last_max=40)) == {forty.pk}


@pytest.mark.django_db
def test_days_since_first_purchase():
    old = _contact(days_ago=[5, 400])
    _contact(days_ago=[5, 20])

    assert _ids(AudienceCriteria(days_since_first_min=365)) == {old.pk}


@pytest.mark.django_db
def test_total_spent_and_purchase_count_bands_are_inclusive():
    small = _contact(days_ago=[3], amount="50.00")
    big = _contact(days_ago=[3, 9, 20], amount="100.00")

    assert _ids(AudienceCriteria(total_spent_min=Decimal("50"),
                                 total_spent_max=Decimal("50"))) == {small.pk}
    assert _ids(AudienceCriteria(purchase_count_min=3)) == {big.pk}
    assert _ids(AudienceCriteria(purchase_count_max=1, stages=("one_time",))) == {small.pk}


@pytest.mark.django_db
def test_owner_ids(sales_user, manager):
    mine = _contact(owner=sales_user)
    _contact(owner=manager)
    _contact()

    assert _ids(AudienceCriteria(owner_ids=(sales_user.pk,))) == {mine.pk}


@pytest.mark.django_db
def test_score_bands_use_the_current_run_and_leave_out_the_unscored():
    likely = _contact(days_ago=[30, 60])
    unlikely = _contact(days_ago=[30, 60])
    _contact(days_ago=[30])  # no score at all
    _score_run({likely: (0.2, 0.2), unlikely: (0.9, 0.9)})  # older run
    _score_run({likely: (0.8, 0.95), unlikely: (0.1, 0.3)})  # current
    _score_run({likely: (0.0, 0.0), unlikely: (1.0, 1.0)}, published=False)  # a backtest

    assert _ids(AudienceCriteria(p_buy_again_min=0.5)) == {likely.pk}
    assert _ids(AudienceCriteria(p_buy_again_max=0.5)) == {unlikely.pk}
    assert _ids(AudienceCriteria(p_alive_min=0.3, p_alive_max=0.3)) == {unlikely.pk}
    assert _ids(AudienceCriteria(p_buy_again_min=0)) == {likely.pk, unlikely.pk}


@pytest.mark.django_db
def test_score_band_without_any_scoring_run_selects_nobody():
    _contact(days_ago=[30, 60])

    assert _ids(AudienceCriteria(p_buy_again_min=0)) == set()


@pytest.mark.django_db
def test_audience_is_one_query(django_assert_num_queries):
    for days in (10, 20, 30):
        _contact(days_ago=[days, 100])
    criteria = AudienceCriteria(stages=("repeat",), at_risk=False, days_since_last_max=60,
                                total_spent_min=Decimal("1"), purchase_count_min=2)

    with django_assert_num_queries(1):
        assert len(list(audience_contacts(criteria, now=NOW))) == 3
    with django_assert_num_queries(1):
        assert audience_size(criteria, now=NOW) == 3


# --- Sample with reasons --------------------------------------------------------------------

@pytest.mark.django_db
def test_sample_says_why_each_contact_is_in(settings):
    settings.CRM_BASE_CURRENCY = "USD"
    contact = _contact(days_ago=[40.5], amount="25.00")
    _score_run({contact: (0.62, 0.9)})
    criteria = AudienceCriteria(stages=("one_time",), p_buy_again_min=0.5,
                                days_since_last_min=30, total_spent_min=Decimal("10"))

    [(sampled, reasons)] = audience_sample(criteria, now=NOW)

    assert sampled == contact
    assert reasons == ["one-time buyer", "62% likely to buy again", "last purchase 40 days ago",
                       "spent 25.00 USD"]


@pytest.mark.django_db
def test_sample_is_bounded_and_reasons_follow_the_criteria(settings):
    settings.CRM_AT_RISK_MIN_DAYS = 90
    for _ in range(4):
        _contact(days_ago=[100.5, 300])

    sample = audience_sample(AudienceCriteria(at_risk=True, purchase_count_min=2), size=3,
                             now=NOW)

    assert len(sample) == 3
    assert {tuple(reasons) for _contact_, reasons in sample} == {
        ("repeat client", "at risk: silent for 100 days", "2 purchases")}
