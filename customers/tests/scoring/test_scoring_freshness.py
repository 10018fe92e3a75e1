"""Fresh scores after a batch (#18 point 5): contacts a batch changed are re-scored from the
last fitted models by the worker (eager here), every one of them, in chunks, and the contact
page shows the new figures without a nightly run."""
import datetime as dt
import re
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from customers import tasks
from customers.models import Contact, ContactScore, Purchase, ScoringRun
from customers.scoring import freshness
from customers.scoring.runs import (
    contacts_scores_refresh,
    current_run,
    scoring_run_execute,
    scoring_run_start,
)
from customers.services.purchases import purchases_delete
from customers.services.rates import rates_save
from customers.tests.doors import admin_url, browser, browser_post
from customers.tests.factories import ContactFactory, record_purchase
from customers.tests.scoring_data import load_cdnow_sample

pytestmark = pytest.mark.django_db


@pytest.fixture
def fitted_run(db) -> ScoringRun:
    """A published run with fitted models (300 CDNOW buyers): what re-scoring uses."""
    load_cdnow_sample(last_day=timezone.localdate() - dt.timedelta(days=1), customers=300)
    run = scoring_run_start(trigger=ScoringRun.Trigger.COMMAND)
    scoring_run_execute(run.pk, parallel=False)
    assert current_run() == run
    return run


@pytest.fixture
def refresh_tasks(monkeypatch) -> list[list[int]]:
    """The contact lists of the customers.refresh_scores tasks queued (they still run)."""
    queued: list[list[int]] = []
    real = tasks.refresh_scores_task.delay

    def delay(contact_ids):
        queued.append(list(contact_ids))
        return real(contact_ids)

    monkeypatch.setattr(tasks.refresh_scores_task, "delay", delay)
    return queued


def _buyers(count: int, *, currency: str = "USD", amount: str = "80.00") -> list[Contact]:
    buyers = [ContactFactory(email=f"batch{number}@example.com") for number in range(count)]
    for contact in buyers:
        record_purchase(contact, days_ago=40, amount=amount, currency=currency)
        record_purchase(contact, days_ago=5, amount=amount, currency=currency)
    return buyers


def _page_value(client, contact: Contact) -> str:
    """The predicted 12-month value as the contact page shows it."""
    html = client.get(reverse("dashboard:contact_detail", args=[contact.pk])).content.decode()
    found = re.search(r"Predicted value, 12 months</dt><dd[^>]*>([^<]*)</dd>", html)
    assert found, "the contact page shows no predicted value"
    return found.group(1)


def test_rates_arriving_rescore_every_contact_of_the_batch_in_one_task(
        fitted_run, refresh_tasks, client, sales_user, django_capture_on_commit_callbacks):
    """150 contacts' lira orders wait for a rate (worth 0 to the model meanwhile); the rate
    arrives: all 150 are re-scored (not the first 100), by one task, not 150."""
    buyers = _buyers(150, currency="TRY", amount="4000.00")
    freshness_before = contacts_scores_refresh([contact.pk for contact in buyers])
    assert freshness_before == 150
    last = buyers[-1]
    client.force_login(sales_user)
    shown_before = _page_value(client, last)
    value_before = ContactScore.objects.get(run=fitted_run, contact=last).predicted_value_12m

    with django_capture_on_commit_callbacks(execute=True):
        rates_save({"TRY": Decimal("0.03")}, day=timezone.localdate() - dt.timedelta(days=60),
                       source="manual")

    assert Purchase.objects.filter(amount_base__isnull=True).count() == 0
    assert refresh_tasks == [sorted(contact.pk for contact in buyers)]
    after = ContactScore.objects.filter(run=fitted_run, contact__in=buyers)
    assert after.count() == 150
    assert all(score.predicted_value_12m > 0 for score in after)
    assert ContactScore.objects.get(run=fitted_run, contact=last).predicted_value_12m \
        != value_before
    assert _page_value(client, last) != shown_before
    assert ScoringRun.objects.count() == 1  # no refit, no nightly run


def test_a_large_batch_is_rescored_in_chunks(fitted_run, refresh_tasks, monkeypatch,
                                            django_capture_on_commit_callbacks):
    monkeypatch.setattr(freshness, "REFRESH_CHUNK", 2)
    buyers = _buyers(5)
    ids = sorted(contact.pk for contact in buyers)

    with django_capture_on_commit_callbacks(execute=True):
        purchases_delete(purchases=Purchase.objects.filter(contact__in=buyers[:4],
                                                           purchased_at__gte=timezone.now()
                                                           - dt.timedelta(days=10)))
        freshness.scores_refresh_after_commit(ids)  # one more request in the same transaction

    assert [len(chunk) for chunk in refresh_tasks] == [2, 2, 2, 2, 1]
    scores = {score.contact_id: score for score in
              ContactScore.objects.filter(run=fitted_run, contact__in=buyers)}
    assert set(scores) == set(ids)
    assert [scores[pk].frequency for pk in ids] == [0, 0, 0, 0, 1]


def test_the_admins_bulk_refund_rescores_its_contacts_in_one_task(
        fitted_run, refresh_tasks, manager, django_capture_on_commit_callbacks):
    buyers = _buyers(3)
    contacts_scores_refresh([contact.pk for contact in buyers])
    latest = [Purchase.objects.filter(contact=contact).latest("purchased_at") for contact in buyers]
    url = admin_url(Purchase, "changelist")

    with django_capture_on_commit_callbacks(execute=True):
        response = browser_post(browser(manager), url, url, {
            "action": "refund", "_selected_action": [p.pk for p in latest], "index": "0"})

    assert response.status_code == 302
    assert refresh_tasks == [sorted(contact.pk for contact in buyers)]
    assert sorted(ContactScore.objects.filter(run=fitted_run, contact__in=buyers)
                  .values_list("frequency", flat=True)) == [0, 0, 0]


def test_moving_purchases_to_another_contact_rescores_both(
        fitted_run, refresh_tasks, django_capture_on_commit_callbacks):
    from customers.services.purchases import purchase_update

    (taker,) = _buyers(1)
    giver = ContactFactory(email="giver@example.com")
    record_purchase(giver, days_ago=100)
    contacts_scores_refresh([giver.pk, taker.pk])

    with django_capture_on_commit_callbacks(execute=True):
        for purchase in Purchase.objects.filter(contact=giver):
            purchase_update(purchase=purchase, contact=taker)

    assert not ContactScore.objects.filter(run=fitted_run, contact=giver).exists()
    assert ContactScore.objects.get(run=fitted_run, contact=taker).frequency == 2  # 3 days
    assert all(chunk == sorted([giver.pk, taker.pk]) for chunk in refresh_tasks)


def test_rescoring_twice_changes_nothing(fitted_run):
    buyers = _buyers(4)
    ids = [contact.pk for contact in buyers]

    tasks.refresh_scores_task(ids)
    first = list(ContactScore.objects.filter(run=fitted_run, contact__in=ids).order_by("contact")
                 .values_list("contact", "p_buy_again", "predicted_value_12m", "frequency"))
    tasks.refresh_scores_task(ids)  # a task delivered twice
    second = list(ContactScore.objects.filter(run=fitted_run, contact__in=ids).order_by("contact")
                  .values_list("contact", "p_buy_again", "predicted_value_12m", "frequency"))

    assert len(first) == 4 and first == second


def test_without_a_published_run_a_batch_queues_harmlessly_and_the_first_run_scores(
        refresh_tasks, django_capture_on_commit_callbacks):
    buyers = _buyers(3)

    with django_capture_on_commit_callbacks(execute=True):
        purchases_delete(purchases=Purchase.objects.filter(contact=buyers[0]))

    assert refresh_tasks == [[buyers[0].pk]]
    assert not ContactScore.objects.exists()  # nothing to score from yet: no error either


def test_a_batch_that_fails_half_way_still_rescores_what_it_committed(
        fitted_run, refresh_tasks, django_capture_on_commit_callbacks):
    buyers = _buyers(2)

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError):
        with freshness.scores_refresh_batch():
            purchases_delete(purchases=Purchase.objects.filter(contact=buyers[0]))
            raise RuntimeError("the loop stopped")

    assert refresh_tasks == [[buyers[0].pk]]


def test_purchases_moved_to_their_day_after_a_time_zone_change_are_rescored(
        fitted_run, refresh_tasks, settings, django_capture_on_commit_callbacks):
    """Two purchases on one UTC day fall on two days in Istanbul (UTC+3): the nightly
    re-derivation moves the second, and the contact's score follows within minutes."""
    from customers.services.consistency import contacts_rederive_stats
    from customers.services.purchases import purchase_record

    settings.TIME_ZONE = "UTC"
    contact = ContactFactory(email="late@example.com")
    day = timezone.now().date() - dt.timedelta(days=30)
    for hour in (10, 22):
        purchase_record(contact=contact, amount=Decimal("5"), currency="USD",
                        purchased_at=dt.datetime.combine(day, dt.time(hour, 30),
                                                         tzinfo=dt.timezone.utc))
    contacts_scores_refresh([contact.pk])
    assert ContactScore.objects.get(run=fitted_run, contact=contact).frequency == 0
    settings.TIME_ZONE = "Europe/Istanbul"

    with django_capture_on_commit_callbacks(execute=True):
        assert contacts_rederive_stats().days_corrected == 1

    assert refresh_tasks == [[contact.pk]]
    assert ContactScore.objects.get(run=fitted_run, contact=contact).frequency == 1


def test_a_batch_landing_during_a_scoring_run_is_rescored_again_after_it(
        fitted_run, monkeypatch):
    """The run going may have scored these contacts from the purchases before the batch; once
    published its scores are current: the task looks again after it, a bounded number of
    times."""
    retries = []
    monkeypatch.setattr(tasks.refresh_scores_task, "apply_async",
                        lambda args, countdown: retries.append((args, countdown)))
    (buyer,) = _buyers(1)

    tasks.refresh_scores_task([buyer.pk])
    assert retries == []  # no run going: done
    assert ContactScore.objects.filter(run=fitted_run, contact=buyer).exists()

    ScoringRun.objects.create(trigger=ScoringRun.Trigger.SCHEDULE, as_of=timezone.localdate(),
                              horizon_days=90, publish=True)  # the nightly run, going
    tasks.refresh_scores_task([buyer.pk])
    tasks.refresh_scores_task([buyer.pk], freshness.RETRIES_WHILE_RUNNING)  # the last look
    assert retries == [(([buyer.pk], 1), freshness.RETRY_SECONDS)]

    tasks.purchases_imported_task([[buyer.pk, 0]], True)  # an import's follow-up: the same
    assert retries[1:] == [(([buyer.pk], 1), freshness.RETRY_SECONDS)]


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_on_a_real_worker_a_bulk_delete_rescores_its_contacts(fitted_run, real_worker):
    from crm.tests.workers import wait_until

    buyers = _buyers(3)
    contacts_scores_refresh([contact.pk for contact in buyers])
    assert set(ContactScore.objects.filter(run=fitted_run, contact__in=buyers)
               .values_list("frequency", flat=True)) == {1}

    purchases_delete(purchases=Purchase.objects.filter(
        contact__in=buyers, purchased_at__gte=timezone.now() - dt.timedelta(days=10)))

    assert wait_until(lambda: set(
        ContactScore.objects.filter(run=fitted_run, contact__in=buyers)
        .values_list("frequency", flat=True)) == {0}, timeout=60)
