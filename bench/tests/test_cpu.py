"""CpuMeter counts only the benchmark's own processes: a tree it started, tagged backends."""
import subprocess
import sys
import time

import pytest

from bench.cpu import (Backends, CpuMeter, Tree, django_connect, process_stat,
                       tagged_database_url)

# Burns CPU for SECONDS (process CPU time, not wall time), then exits.
BURN = ("import sys, time\n"
        "end = time.process_time() + float(sys.argv[1])\n"
        "while time.process_time() < end: pass\n")
# Waits for a line on stdin, then starts a burning child, reaps it, and burns itself: the
# child ends (and is reaped inside the tree) during the measurement.
PARENT = ("import subprocess, sys, time\n"
          "sys.stdin.readline()\n"
          f"subprocess.run([sys.executable, '-c', {BURN!r}, '0.6'], check=True)\n"
          "end = time.process_time() + 0.3\n"
          "while time.process_time() < end: pass\n"
          "print('done', flush=True)\n"
          "sys.stdin.readline()\n")


def test_tree_counts_its_processes_including_a_child_that_ended_and_not_others():
    tree = subprocess.Popen([sys.executable, "-c", PARENT], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    # Not part of the tree: burns at the same time, on the same machine.
    outsider = subprocess.Popen([sys.executable, "-c", BURN, "1.5"])
    try:
        with CpuMeter(web=Tree(tree.pid), absent=None) as meter:
            tree.stdin.write("go\n")
            tree.stdin.flush()
            assert tree.stdout.readline().strip() == "done"
            outsider.wait(30)
        # 0.6 s in the child that ended + 0.3 s in the parent (+ a child interpreter's start).
        assert 0.85 <= meter.used["web"] <= 1.4
        assert meter.used["absent"] is None
        assert "absent not measured" in meter.summary(10)
        assert meter.per_request(10)["web"] == pytest.approx(100 * meter.used["web"])
    finally:
        tree.stdin.close()
        tree.wait(10)
        outsider.kill()
        outsider.wait()


def test_tagged_database_url_replaces_an_existing_name_and_keeps_other_options():
    url = tagged_database_url("postgres://crm@db:5432/crm?connect_timeout=3&application_name=x",
                              "crm-bench-1")

    assert url == "postgres://crm@db:5432/crm?connect_timeout=3&application_name=crm-bench-1"


def _backend_cpu(connection) -> tuple[int, float]:
    """(pid, CPU seconds so far) of a connection's backend, read from /proc directly."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    stat = process_stat(pid)
    return pid, stat[1] + stat[2]


def _params() -> dict:
    from django.db import connection

    return {key: value for key, value in connection.get_connection_params().items()
            if key != "cursor_factory"}


WORK = "SELECT count(*) FROM generate_series(1, %s) AS g WHERE g %% 7 = 3"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backends_counts_only_the_tagged_connections():
    import psycopg2

    ours = psycopg2.connect(**_params(), application_name="crm-bench-test")
    others = psycopg2.connect(**_params(), application_name="someone-else")
    try:
        _pid, ours_before = _backend_cpu(ours)
        _pid, others_before = _backend_cpu(others)
        with CpuMeter(database=Backends("crm-bench-test", django_connect)) as meter:
            with ours.cursor() as cursor:
                cursor.execute(WORK, [1_000_000])
            with others.cursor() as cursor:
                cursor.execute(WORK, [4_000_000])
        ours_used = _backend_cpu(ours)[1] - ours_before
        others_used = _backend_cpu(others)[1] - others_before
        assert others_used > 2 * ours_used > 0  # the untagged one worked more...
        # ...but only the tagged backend counts (to a clock tick or two).
        assert meter.used["database"] == pytest.approx(ours_used, abs=0.03)
    finally:
        ours.close()
        others.close()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backends_counts_a_connection_that_opened_and_closed_during_the_run():
    import psycopg2

    with CpuMeter(database=Backends("crm-bench-test", django_connect), interval=0.05) as meter:
        brief = psycopg2.connect(**_params(), application_name="crm-bench-test")
        with brief.cursor() as cursor:
            cursor.execute(WORK, [3_000_000])
        _pid, used = _backend_cpu(brief)
        brief.close()
        time.sleep(0.3)  # the backend has ended before the meter stops
    # Read while it lived (every 0.05 s): all but the last interval's work.
    assert used > 0.2
    assert used - 0.1 <= meter.used["database"] <= used + 0.03


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_backend_is_recognised_by_its_title_and_client_port_only():
    import os

    import psycopg2

    from bench.cpu import _is_backend

    tagged = psycopg2.connect(**_params(), application_name="crm-bench-test")
    try:
        with tagged.cursor() as cursor:
            cursor.execute("SELECT pid, client_port FROM pg_stat_activity "
                           "WHERE pid = pg_backend_pid()")
            pid, port = cursor.fetchone()
        assert _is_backend(pid, port)
        if port is not None:  # over TCP: another connection's port is not this backend
            assert not _is_backend(pid, port + 1)
        assert not _is_backend(os.getpid(), None)  # a pid here that is not PostgreSQL
    finally:
        tagged.close()
