"""Celery workers started as the deployment starts them (prefork pool, production settings),
for fault tests; with a Redis of the test's own (crm.tests.servers) to kill and restart:

    with redis_server() as redis, CeleryWorker(redis.url, smtp_port=sink.port) as worker:
        ...
        redis.kill()       # SIGKILL, its data gone (no persistence, as shipped)
        redis.start()      # same port
        worker.children()  # pids of the pool processes, to SIGKILL them
"""
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from django.db import connection

from .servers import free_port
from .workers import wait_until

ROOT = Path(__file__).resolve().parents[2]
CELERY = Path(sys.executable).with_name("celery")


def production_environment(broker_url: str, smtp_port: int) -> dict[str, str]:
    """What a deployed worker gets: production settings, the test database (its rows are
    committed: transaction=True tests), the given broker and the test's SMTP sink."""
    db = connection.settings_dict
    return {**os.environ,
            "DJANGO_SETTINGS_MODULE": "crm.settings.production",
            "DJANGO_SECRET_KEY": "worker-fault-tests-only",
            "DJANGO_ALLOWED_HOSTS": "crm.example.com",
            "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
            "REDIS_URL": broker_url,
            "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
            "LOG_LEVEL": "INFO",
            "PYTHONPATH": str(ROOT)}


class CeleryWorker:
    """`celery -A crm worker` as crm-worker.service runs it (prefork pool)."""

    def __init__(self, broker_url: str, *, smtp_port: int, concurrency: int = 2,
                 app: str = "crm", queues: str = "") -> None:
        """`app`: the Celery app module (-A); a test's own module can wrap crm's. `queues`: -Q
        (crm-sender.service serves "email"); by default every queue, as crm-worker.service."""
        self.environ = production_environment(broker_url, smtp_port)
        self.concurrency = concurrency
        self.app = app
        self.queues = ["-Q", queues] if queues else []
        self.log = Path(tempfile.mkstemp(prefix="crm-test-worker-", suffix=".log")[1])
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> "CeleryWorker":
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(CELERY), "-A", self.app, "worker", *self.queues, "--pool=prefork",
                 f"--concurrency={self.concurrency}", "--loglevel=INFO",
                 "--without-gossip", "--without-mingle", f"--hostname=test-{free_port()}@%h"],
                cwd=ROOT, env=self.environ, stdout=log, stderr=subprocess.STDOUT)
        assert wait_until(lambda: " ready." in self.output() or not self.alive(), timeout=60), \
            self.output()
        assert self.alive(), self.output()
        return self

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def children(self) -> list[int]:
        done = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True,
                              text=True, check=False)
        return [int(pid) for pid in done.stdout.split()]

    def __exit__(self, *exc) -> None:
        if not self.alive():
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def wait_for(condition, timeout: float, every: float = 0.2) -> float | None:
    """Seconds until `condition()` held, or None after `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if condition():
            return time.monotonic() - started
        time.sleep(every)
    return None
