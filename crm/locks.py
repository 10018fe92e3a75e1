"""Named locks for jobs that must not run twice at the same moment.

    @shared_task(name="customers.rederive_stats", ignore_result=True)
    @single_run("customers.rederive_stats")
    def rederive_stats_task() -> None: ...

A second copy started while the first runs (two beats, a redelivered message, a manager's
"run now") logs and returns at once instead of doing the whole job again beside it.

* PostgreSQL: a session advisory lock (pg_try_advisory_lock, one bigint key per name) on a
  connection of its own, so nothing the job does with Django's connection (closing it after an
  error, a transaction rolled back) can drop the lock; closing that connection in `finally`, or
  the server noticing the process died, releases it.
* SQLite (one machine: the database is a file on it): an exclusive flock on a file next to the
  database, released by the kernel when the process dies. An in-memory database (tests) is seen
  by this process only, so a lock inside the process is the right scope.

The lock guards against overlap only: a copy that starts after the first finished runs again;
jobs stay safe to repeat by their own design (claims, unique rows).
"""
import fcntl
import functools
import hashlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from django.db import DEFAULT_DB_ALIAS, connections

logger = logging.getLogger(__name__)

_memory_locks: dict[str, threading.Lock] = {}
_memory_guard = threading.Lock()


def lock_key(name: str) -> int:
    """A stable signed 64-bit key for `name` (Python's hash() differs between processes).
    One-key advisory locks are a key space of their own, apart from the two-key ones that
    campaigns.outbox.checks takes per contact."""
    digest = hashlib.sha256(f"crm.locks:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextmanager
def _postgres_lock(name: str) -> Iterator[bool]:
    connection = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [lock_key(name)])
            acquired = cursor.fetchone()[0]
        yield acquired
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [lock_key(name)])
    finally:
        connection.close()  # releases the lock too, if the unlock above never ran


def _lock_file(name: str) -> Path | None:
    database = str(connections[DEFAULT_DB_ALIAS].settings_dict["NAME"])
    if database == ":memory:" or database.startswith("file:") or "mode=memory" in database:
        return None
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in name)
    return Path(f"{database}.locks") / f"{safe}.lock"


@contextmanager
def _file_lock(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(descriptor, fcntl.LOCK_UN)
    finally:
        os.close(descriptor)


@contextmanager
def _memory_lock(name: str) -> Iterator[bool]:
    with _memory_guard:
        lock = _memory_locks.setdefault(name, threading.Lock())
    acquired = lock.acquire(blocking=False)
    try:
        yield acquired
    finally:
        if acquired:
            lock.release()


@contextmanager
def named_lock(name: str) -> Iterator[bool]:
    """Try to take the lock `name` without waiting; yields whether this process holds it."""
    if connections[DEFAULT_DB_ALIAS].vendor == "postgresql":
        with _postgres_lock(name) as acquired:
            yield acquired
        return
    path = _lock_file(name)
    with (_file_lock(path) if path is not None else _memory_lock(name)) as acquired:
        yield acquired


def single_run(name: str) -> Callable:
    """Decorator: run the function under the lock `name`; while another copy holds it, log
    and return None without running."""
    def decorate(function: Callable) -> Callable:
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            with named_lock(name) as acquired:
                if not acquired:
                    logger.warning("%s is already running elsewhere; this copy skips", name)
                    return None
                return function(*args, **kwargs)
        wrapper.single_run = name  # crm/tests/test_periodic_jobs_twice.py lists locked jobs
        return wrapper
    return decorate
