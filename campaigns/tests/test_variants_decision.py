"""Deciding a subject test (campaigns.variant_decision): by purchases against the held-out
group or by clicks, the winner with its figures and whether the difference is clear; not
without data until the maximum; once, however many deciders."""
import datetime as dt
import threading
import time

import pytest
from django.db import connection, transaction
from django.utils import timezone

from campaigns.models import JourneyStep, LinkClick, Message, VariantTest
from campaigns.services import campaign_run_start
from campaigns.tasks import decide_variant_tests_task
from campaigns.tests.factories import CampaignRunFactory, MessageFactory
from campaigns.variant_decision import (
    result_text,
    variant_test_decide,
    variant_test_report,
    variant_tests_decide_due,
)
from customers.tests.factories import record_purchase

from .variant_helpers import buyers, campaign, template, variants

pytestmark = pytest.mark.django_db
Status = Message.Status
NOW = timezone.now()
STARTED = NOW - dt.timedelta(hours=80)   # the test's 72 hours have passed
SENT = NOW - dt.timedelta(hours=79)


def _rows(run, variant, count: int, responders: int, *, status=Status.SENT,
          bought_hours_after: float = 24, clicked: bool = False):
    """`count` rows of the variant (None: held out), the first `responders` of which bought
    (or clicked) after the row's start."""
    for index in range(count):
        message = MessageFactory(run=run, status=status, variant=variant,
                                 sent_at=SENT if status == Status.SENT else None,
                                 not_before=SENT, created_at=STARTED)
        if index >= responders:
            continue
        if clicked:
            LinkClick.objects.create(message=message, contact=message.contact,
                                     url="https://shop.example/", url_hash=f"{message.pk:064}")
        else:
            hours_ago = (NOW - SENT) / dt.timedelta(hours=1) - bought_hours_after
            record_purchase(message.contact, days_ago=hours_ago / 24)


def _test(**values):
    offer = campaign()
    test, made = variants(offer, **values)
    VariantTest.objects.filter(pk=test.pk).update(started_at=STARTED)
    return test, made, CampaignRunFactory(campaign=offer)


def test_purchases_decide_the_winner_with_a_clear_difference_and_uplifts():
    test, (a, b), run = _test()
    _rows(run, a, 10, 3)
    _rows(run, b, 10, 9)
    _rows(run, None, 10, 1, status=Status.HELD_OUT)
    _rows(run, a, 2, 2, bought_hours_after=100)  # bought after the 72 hours: not counted

    decided = variant_test_decide(test.pk, now=NOW)

    assert decided.winner == b and decided.decided_at == NOW
    result = decided.result
    assert result["reason"] == "clear" and result["decided_by"] == "schedule"
    figures = {row["label"]: row for row in result["variants"]}
    assert (figures["A"]["sent"], figures["A"]["responders"]) == (12, 3)
    assert (figures["B"]["sent"], figures["B"]["responders"], figures["B"]["rate"]) == (10, 9, 0.9)
    assert result["control"] == {"contacts": 10, "responders": 1, "rate": 0.1}
    assert figures["B"]["uplift"]["estimate"] == pytest.approx(0.8)
    assert figures["B"]["uplift"]["clear"] is True
    comparison = result["comparison"]
    assert (comparison["best"], comparison["runner_up"]) == ("B", "A")
    assert comparison["estimate"] == pytest.approx(0.9 - 0.25)
    assert comparison["clear"] is True and comparison["low"] > 0
    assert "“B” did clearly better than “A”" in result_text(result)


def test_no_clear_difference_still_chooses_the_best_estimate():
    test, (a, b), run = _test()
    _rows(run, a, 10, 4)
    _rows(run, b, 10, 3)

    decided = variant_test_decide(test.pk, now=NOW)

    assert decided.winner == a and decided.result["reason"] == "unclear"
    assert decided.result["comparison"]["low"] < 0 < decided.result["comparison"]["high"]
    assert decided.result["control"] == {"contacts": 0, "responders": 0, "rate": None}
    assert "No clear difference" in result_text(decided.result)
    assert "the best estimate, “A”, was chosen" in result_text(decided.result)


def test_clicks_decide_when_the_manager_says_so():
    test, (a, b), run = _test(metric=VariantTest.Metric.CLICKS)
    _rows(run, a, 10, 8, clicked=True)
    _rows(run, b, 10, 1, clicked=True)
    _rows(run, b, 5, 5)  # purchases do not count for a clicks test

    decided = variant_test_decide(test.pk, now=NOW)

    assert decided.winner == a and decided.result["reason"] == "clear"
    assert decided.result["control"] is None
    figures = {row["label"]: row for row in decided.result["variants"]}
    assert (figures["A"]["responders"], figures["B"]["sent"], figures["B"]["responders"]) == \
        (8, 15, 1)


def test_the_winner_is_released_to_the_waiting_rows():
    test, (a, b), run = _test()
    _rows(run, a, 4, 0)
    _rows(run, b, 4, 2)
    waiting = [MessageFactory(run=run, status=Status.WAITING, not_before=STARTED)
               for _ in range(3)]

    variant_test_decide(test.pk, now=NOW)

    rows = Message.objects.filter(pk__in=[row.pk for row in waiting])
    assert set(rows.values_list("status", "variant", "template", "not_before")) == {
        (Status.QUEUED, b.pk, b.template_id, NOW)}


def test_not_due_yet_is_not_decided():
    test, (a, b), run = _test(decide_after_hours=100)
    _rows(run, a, 2, 1)

    assert variant_test_decide(test.pk, now=NOW) is None
    assert variant_tests_decide_due(now=NOW) == 0
    test.refresh_from_db()
    assert test.decided_at is None and test.winner is None


def test_without_sent_rows_it_waits_then_decides_after_the_maximum(caplog):
    test, (a, b), run = _test()
    waiting = MessageFactory(run=run, status=Status.WAITING, not_before=STARTED)

    assert variant_tests_decide_due(now=NOW) == 0
    assert "nothing sent in the test yet" in caplog.text
    later = STARTED + dt.timedelta(hours=3 * 72)
    assert variant_tests_decide_due(now=later) == 1

    test.refresh_from_db()
    assert test.winner == a and test.result["reason"] == "no_data"
    assert "Nothing had been sent in the test" in result_text(test.result)
    waiting.refresh_from_db()
    assert (waiting.status, waiting.variant) == (Status.QUEUED, a)


def test_a_manager_decides_at_once():
    test, (a, b), run = _test(decide_after_hours=500)
    _rows(run, b, 3, 1)

    decided = variant_test_decide(test.pk, now=NOW, by_manager=True)

    assert decided.winner == b and decided.result["decided_by"] == "manager"
    assert "A manager decided the test." in result_text(decided.result)


def test_deciding_twice_decides_once():
    test, (a, b), run = _test()
    _rows(run, a, 3, 1)
    first = variant_test_decide(test.pk, now=NOW)

    again = variant_test_decide(test.pk, now=NOW + dt.timedelta(hours=1), by_manager=True)

    test.refresh_from_db()
    assert first is not None and again is None
    assert test.decided_at == NOW and test.result == first.result


def test_the_running_test_shows_its_figures_so_far():
    test, (a, b), run = _test()
    _rows(run, a, 4, 1)
    test.refresh_from_db()

    report = variant_test_report(test)

    assert [row["sent"] for row in report["variants"]] == [4, 0]
    test.refresh_from_db()
    assert test.decided_at is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deciders_at_the_same_moment_decide_once():
    test, (a, b), run = _test()
    _rows(run, a, 3, 1)
    waiting = MessageFactory(run=run, status=Status.WAITING, not_before=STARTED)
    barrier, results, errors = threading.Barrier(2), [], []

    def decide(by_manager: bool) -> None:
        try:
            barrier.wait()
            results.append(variant_test_decide(test.pk, by_manager=by_manager))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=decide, args=(flag,)) for flag in (False, True)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sum(result is not None for result in results) == 1
    waiting.refresh_from_db()
    assert waiting.variant == a


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_built_while_the_test_is_decided_leaves_nobody_waiting():
    buyers(6)
    offer = campaign()
    test, (a, b) = variants(offer, test_percent=50)
    # Started by an earlier run: this run writes nothing to the test's row.
    VariantTest.objects.filter(pk=test.pk).update(started_at=STARTED)
    built, proceed, errors = threading.Event(), threading.Event(), []

    def build() -> None:
        try:
            with transaction.atomic():  # the run's rows are not committed until `proceed`
                campaign_run_start(campaign=offer)
                built.set()
                proceed.wait(timeout=10)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    def decide() -> None:
        try:
            built.wait(timeout=10)
            variant_test_decide(test.pk, by_manager=True)
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=build), threading.Thread(target=decide)]
    for thread in threads:
        thread.start()
    built.wait(timeout=10)
    time.sleep(0.5)  # the decider is waiting for the campaign's lock by now
    proceed.set()
    for thread in threads:
        thread.join()

    assert errors == []
    assert not Message.objects.filter(status=Status.WAITING).exists()
    assert Message.objects.filter(variant__isnull=True).count() == 0


def test_a_journey_steps_test_compares_with_the_journeys_held_out_contacts():
    journey = campaign()
    step = JourneyStep.objects.create(campaign=journey, position=1, kind=JourneyStep.Kind.EMAIL,
                                      template=template("Step"))
    test, (a, b) = variants(journey, step=step)
    VariantTest.objects.filter(pk=test.pk).update(started_at=STARTED)
    run = CampaignRunFactory(campaign=journey)
    for variant in (a, b):
        for _ in range(2):
            MessageFactory(run=run, status=Status.SENT, variant=variant, step=step,
                           sent_at=SENT, created_at=STARTED)
    _rows(run, None, 3, 1, status=Status.HELD_OUT)  # the journey's, without a step

    decided = variant_test_decide(test.pk, now=NOW)

    assert decided.result["control"]["contacts"] == 3
    assert [row["sent"] for row in decided.result["variants"]] == [2, 2]


def test_the_periodic_task_decides_what_is_due_and_is_safe_to_run_twice():
    test, (a, b), run = _test()
    _rows(run, b, 2, 1)

    decide_variant_tests_task.delay()
    decided_at = VariantTest.objects.get(pk=test.pk).decided_at
    decide_variant_tests_task.delay()

    test.refresh_from_db()
    assert test.winner == b and test.decided_at == decided_at is not None
