"""Backfill and poll jobs: pages, cursor, resuming after a crash, the store's API failing."""
import datetime as dt

import pytest
from django.utils import timezone

from crm.locks import named_lock
from customers.models import Purchase
from shops.http import ShopHTTP
from shops.models import Store, SyncJob
from shops.platforms.base import ConnectorError
from shops.services import sync
from shops.services.sync import stores_poll, sync_job_run, sync_start
from shops.tests.helpers import run_job
from shops.tests.stub_platform import order_json

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    """The HTTP client's retries without their real waits."""
    monkeypatch.setattr(sync, "_http", lambda: ShopHTTP(sleep=lambda seconds: None))


def _orders(driver, count: int) -> None:
    for order_id in range(1, count + 1):
        driver.put_order(order_json(order_id, email=f"b{order_id % 7}@example.com"))


def test_a_backfill_pages_through_the_history_and_stores_its_progress(driver):
    store = driver.store()
    _orders(driver, 120)

    job = run_job(store, SyncJob.Kind.BACKFILL)

    assert job.status == SyncJob.Status.DONE
    assert (job.orders_seen, job.purchases_created, job.total) == (120, 120, 120)
    assert job.pages >= 2 and job.cursor == "" and job.percent == 100
    assert job.heartbeat_at is not None and job.finished_at is not None
    assert Purchase.objects.filter(source=store.source).count() == 120


def test_a_job_resumes_from_its_cursor_after_a_crash(driver, monkeypatch):
    store = driver.store()
    _orders(driver, 120)
    real = sync.orders_ingest
    calls = []

    def crash_on_the_second_page(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(sync, "orders_ingest", crash_on_the_second_page)
    job = sync_start(store=store, kind=SyncJob.Kind.BACKFILL)
    with pytest.raises(RuntimeError):
        sync_job_run(job.pk)
    job.refresh_from_db()
    assert job.status == SyncJob.Status.RUNNING and job.pages == 1 and job.cursor
    first_cursor = job.cursor
    monkeypatch.setattr(sync, "orders_ingest", real)
    SyncJob.objects.filter(pk=job.pk).update(
        heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    requests_before = len(driver.api.requests)

    stores_poll()  # the hourly task: the stale job is picked up again

    job.refresh_from_db()
    assert job.status == SyncJob.Status.DONE and job.orders_seen == 120
    assert Purchase.objects.filter(source=store.source).count() == 120
    resumed = [r for r in driver.api.requests[requests_before:] if r.path == "/orders"]
    assert resumed[0].param("after") == first_cursor


def test_a_job_running_elsewhere_is_not_run_twice(driver):
    store = driver.store()
    _orders(driver, 3)
    job = SyncJob.objects.create(store=store, kind=SyncJob.Kind.BACKFILL)

    with named_lock(f"shops.sync_job:{job.pk}") as held:
        assert held
        sync_job_run(job.pk)

    job.refresh_from_db()
    assert job.status == SyncJob.Status.QUEUED and job.pages == 0


def test_429_makes_the_job_wait_and_try_again(driver):
    store = driver.store()
    _orders(driver, 3)
    driver.api.fail_next(429, times=4, retry_after=0)  # ShopHTTP tries 4 times

    job = run_job(store, SyncJob.Kind.BACKFILL)

    store.refresh_from_db()
    assert job.status == SyncJob.Status.WAITING
    assert store.last_error_kind == ConnectorError.RATE_LIMITED

    sync_job_run(job.pk)  # the re-queued run, once the store lets us

    job.refresh_from_db()
    store.refresh_from_db()
    assert job.status == SyncJob.Status.DONE
    assert store.last_error == "" and store.last_error_kind == ""


def test_unavailable_retries_a_few_times_then_fails(driver):
    store = driver.store()
    driver.api.fail_next(503, times=100)
    job = sync_start(store=store, kind=SyncJob.Kind.BACKFILL)

    for _attempt in range(sync.MAX_RETRIES + 1):
        sync_job_run(job.pk)

    job.refresh_from_db()
    assert job.status == SyncJob.Status.FAILED and job.retries == sync.MAX_RETRIES
    assert Store.objects.get(pk=store.pk).last_error_kind == ConnectorError.UNAVAILABLE


def test_expired_credentials_fail_the_job_with_the_stores_last_error(driver):
    store = driver.store()
    driver.expire_credentials()

    job = run_job(store, SyncJob.Kind.BACKFILL)

    store.refresh_from_db()
    assert job.status == SyncJob.Status.FAILED
    assert store.last_error_kind == ConnectorError.AUTH and store.last_error
    assert store.last_error_at is not None


def test_a_poll_reads_changes_since_the_watermark_and_moves_it(driver):
    store = driver.store()
    store.poll_watermark = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    store.save()
    driver.put_order(order_json(1, created_at="2026-11-01T10:00:00+00:00"))
    driver.put_order(order_json(2, created_at="2026-11-04T10:00:00+00:00"))

    job = run_job(store, SyncJob.Kind.POLL)

    store.refresh_from_db()
    assert job.status == SyncJob.Status.DONE and job.orders_seen == 1
    assert list(Purchase.objects.values_list("external_id", flat=True)) == ["2"]
    assert store.poll_watermark == job.started_at - sync.POLL_MARGIN
    assert store.last_poll_at is not None


def test_the_hourly_task_polls_active_stores_only(driver):
    active = driver.store(key="active")
    driver.store(key="inactive", active=False)

    stores_poll()

    assert list(SyncJob.objects.values_list("store__key", "kind")) == [
        (active.key, SyncJob.Kind.POLL)]
