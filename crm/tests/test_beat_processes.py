"""Two real `celery beat` processes on one PostgreSQL database: one sends, the other stands by;
killed with SIGKILL, the sender is replaced within the lease time; a 1-second job goes out once
a second, not twice."""
import datetime as dt
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from crm.models import BeatLease, BeatProcess
from crm.tests.workers import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow, pytest.mark.postgres]

JOB = "test: every second"
SENT = re.compile(r"\[(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}).*Sending due task " + re.escape(JOB))


def _database_url() -> str:
    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _start_beat(tmp_path: Path, number: int) -> tuple[subprocess.Popen, Path]:
    log = tmp_path / f"beat{number}.log"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "crm.settings.local",
           "DATABASE_URL": _database_url(), "REDIS_URL": "",  # filesystem broker in tmp_path
           "CRM_VAR_DIR": str(tmp_path / f"var{number}"), "DJANGO_DEBUG": "false",
           "CRM_BEAT_CHECK_SECONDS": "1", "CRM_BEAT_LEASE_SECONDS": "3"}
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "crm", "beat", "--loglevel=INFO",
         f"--schedule={tmp_path / f'schedule{number}'}"],
        cwd=settings.BASE_DIR, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    return process, log


def _sends(log: Path) -> list[dt.datetime]:
    return [dt.datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f")
            for stamp in SENT.findall(log.read_text())]


def test_two_real_beats_send_each_run_once_and_the_standby_replaces_a_killed_sender(tmp_path):
    PeriodicTask.objects.update(enabled=False)
    every_second, _ = IntervalSchedule.objects.get_or_create(every=1, period="seconds")
    PeriodicTask.objects.create(name=JOB, task="crm.heartbeat", interval=every_second)
    beats = [_start_beat(tmp_path, number) for number in (1, 2)]
    try:
        # Two processes importing Django and Celery: slow on a loaded machine (make test runs
        # another test process beside this one); the wait ends as soon as both are up.
        assert wait_until(lambda: BeatProcess.objects.count() == 2
                          and BeatLease.objects.exclude(holder="").exists(), timeout=60)
        time.sleep(4)
        holder_pid = int(BeatLease.objects.get().holder.split(":")[1])
        (sender, sender_log), (standby, standby_log) = sorted(
            beats, key=lambda beat: beat[0].pid != holder_pid)
        assert len(_sends(sender_log)) >= 3 and _sends(standby_log) == []

        sender.send_signal(signal.SIGKILL)
        sender.wait()
        assert wait_until(lambda: len(_sends(standby_log)) >= 2, timeout=10)
        standby.terminate()
        standby.wait(10)

        every_send = sorted(_sends(sender_log) + _sends(standby_log))
        gaps = [(b - a).total_seconds() for a, b in zip(every_send, every_send[1:])]
        assert min(gaps) > 0.5  # never the same run from both
        counted = PeriodicTask.objects.get(name=JOB).total_run_count
        # A send in the instant before SIGKILL may not have been written yet.
        assert len(every_send) - 1 <= counted <= len(every_send)
    finally:
        for process, _log in beats:
            if process.poll() is None:
                process.kill()
                process.wait()
