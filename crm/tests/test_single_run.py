"""crm.locks: a named lock taken without waiting; a second copy of a job skips while the first
runs. PostgreSQL: advisory locks on a connection of their own; SQLite: a file lock (a process
that dies releases it), or a lock inside the process for an in-memory database."""
import logging
import subprocess
import sys
import threading
from types import SimpleNamespace

import pytest
from django.db import connection

from crm.locks import _file_lock, lock_key, named_lock, single_run

pytestmark = pytest.mark.django_db


def test_a_held_lock_is_refused_to_a_second_taker_and_free_again_after():
    with named_lock("test.job") as first:
        with named_lock("test.job") as second, named_lock("test.other") as other:
            assert (first, second, other) == (True, False, True)
    with named_lock("test.job") as again:
        assert again


def test_an_error_in_the_job_releases_the_lock():
    with pytest.raises(ZeroDivisionError), named_lock("test.job"):
        raise ZeroDivisionError

    with named_lock("test.job") as acquired:
        assert acquired


def test_the_decorated_job_skips_and_logs_while_another_copy_runs(caplog):
    calls = []

    @single_run("test.job")
    def job(value: int) -> int:
        calls.append(value)
        return value * 2

    with named_lock("test.job"), caplog.at_level(logging.WARNING, logger="crm.locks"):
        skipped = job(1)
    ran = job(2)

    assert (skipped, ran, calls) == (None, 4, [2])
    assert "test.job is already running elsewhere; this copy skips" in caplog.text


def test_keys_are_stable_and_distinct():
    assert lock_key("customers.rederive_stats") == lock_key("customers.rederive_stats")
    assert lock_key("customers.rederive_stats") != lock_key("customers.refresh_kpis")
    assert -2**63 <= lock_key("x") < 2**63


def test_a_file_lock_is_released_when_its_process_is_killed(tmp_path):
    path = tmp_path / "job.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import fcntl, os, sys, time\n"
         f"fd = os.open({str(path)!r}, os.O_RDWR | os.O_CREAT)\n"
         "fcntl.flock(fd, fcntl.LOCK_EX)\n"
         "print('locked', flush=True)\n"
         "time.sleep(60)\n"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with _file_lock(path) as while_held:
            assert not while_held
    finally:
        holder.kill()
        holder.wait()

    with _file_lock(path) as after_kill:
        assert after_kill


def _second_copy_skips_while_first_runs(monkeypatch, task, service: str, returns=None,
                                        also: dict | None = None) -> None:
    """Start the task in a thread that blocks inside its service (the first call it makes;
    `also`: stand-ins for what it calls next); run a second copy meanwhile."""
    inside, release, calls = threading.Event(), threading.Event(), []

    def service_double(*args, **kwargs):
        calls.append(threading.current_thread().name)
        inside.set()
        release.wait(10)
        return returns

    monkeypatch.setattr(service, service_double)
    for target, stand_in in (also or {}).items():
        monkeypatch.setattr(target, stand_in)
    first = threading.Thread(target=task, name="first")
    first.start()
    try:
        assert inside.wait(10)
        task()  # the second copy, while the first is inside the job
    finally:
        release.set()
        first.join(10)

    assert calls == ["first"]
    task()  # once the first has finished, the job runs again
    assert calls == ["first", "MainThread"]


def _locked_tasks():
    from campaigns.triggers import detect_at_risk_task
    from customers.tasks import import_purge_task, rederive_stats_task
    from dashboard.tasks import refresh_kpis_task
    from webhooks.tasks import send_due_task

    return [
        (rederive_stats_task, "customers.tasks.contacts_rederive_stats", DRIFT_NONE, None),
        (refresh_kpis_task, "dashboard.tasks.kpis_refresh", None, None),
        (import_purge_task, "customers.imports.retention.import_jobs_purge", 0, None),
        (detect_at_risk_task, "campaigns.triggers.at_risk_check_last", None, {
            "campaigns.triggers.contacts_fallen_at_risk": lambda **kwargs: [],
            "webhooks.services.contacts_at_risk_emit": lambda contact_ids: None,
            "campaigns.triggers.at_risk_check_done": lambda now: None}),
        (send_due_task, "webhooks.tasks.deliveries_due_ids", [], None),
    ]


DRIFT_NONE = SimpleNamespace(days_corrected=0, drifted=0)


@pytest.mark.parametrize("index", range(5), ids=["rederive_stats", "refresh_kpis",
                                                 "import_purge", "detect_at_risk",
                                                 "webhooks_send_due"])
def test_a_second_copy_of_a_periodic_job_skips_while_the_first_runs(monkeypatch, index):
    task, service, returns, also = _locked_tasks()[index]

    _second_copy_skips_while_first_runs(monkeypatch, task, service, returns, also)


@pytest.mark.postgres
def test_postgres_a_second_copy_of_the_rederivation_skips_while_the_first_runs(monkeypatch):
    from customers.tasks import rederive_stats_task

    _second_copy_skips_while_first_runs(
        monkeypatch, rederive_stats_task, "customers.tasks.contacts_rederive_stats", DRIFT_NONE)


@pytest.mark.postgres
def test_postgres_the_lock_is_a_session_advisory_lock_other_connections_see():
    with named_lock("customers.rederive_stats") as acquired:
        with connection.cursor() as cursor:  # Django's own connection: another session
            cursor.execute("SELECT pg_try_advisory_lock(%s)",
                           [lock_key("customers.rederive_stats")])
            taken_elsewhere = cursor.fetchone()[0]
        assert acquired and not taken_elsewhere
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s), pg_advisory_unlock(%s)",
                       [lock_key("customers.rederive_stats")] * 2)
        assert cursor.fetchone() == (True, True)
