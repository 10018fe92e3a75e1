"""A real Celery worker, in-process, on the configured broker (filesystem or Redis)."""
import time
from collections.abc import Callable

import pytest
from celery.contrib.testing.worker import start_worker

from crm.celery import app


@pytest.fixture
def real_worker():
    app.conf.task_always_eager = False
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10) as worker:
            yield worker
    finally:
        app.conf.task_always_eager = True


def wait_until(condition: Callable[[], bool], timeout: float = 120) -> bool:
    """Poll until the condition holds; generous, as a loaded CI machine can be slow (a
    condition that holds returns at once). On SQLite (a newcomer's `make test`) a read can meet
    the real worker's write lock ("database table is locked"): that poll counts as "not yet"."""
    from django.db import OperationalError

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return True
        except OperationalError as error:
            if "locked" not in str(error):
                raise
        time.sleep(0.1)
    return False
