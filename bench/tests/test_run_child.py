"""bench_import.run_child measures the child alone: its peak memory is not this process's."""
import pytest

from bench.bench_import import run_child

CHILD = ("import time\n"
         "block = bytearray(60 * 2**20)\n"  # zero-filled: 60 MB resident
         "end = time.process_time() + 0.3\n"
         "while time.process_time() < end: pass\n"
         "print('done')\n")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_run_child_reports_the_childs_own_peak_memory_and_cpu():
    ballast = bytearray(300 * 2**20)  # this process holds 300 MB while the child runs
    try:
        run = run_child("-c", CHILD)
    finally:
        del ballast

    assert run.output == "done"
    assert 60 <= run.peak_rss_mb <= 120
    assert 0.28 <= run.cpu_seconds <= 1.0
    assert run.database_cpu_seconds == 0  # no connection of its own: no backend counted
