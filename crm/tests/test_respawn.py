"""scripts/respawn.py: what `make run` (honcho) runs the worker and beat under, so that a
worker that dies is started again instead of taking the demo down (systemd's Restart=always
in production: deploy/tests/test_service_files.py)."""
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from crm.tests.workers import wait_until

ROOT = Path(__file__).resolve().parents[2]
RESPAWN = ROOT / "scripts" / "respawn.py"


def start(command: list[str]) -> subprocess.Popen:
    # A session of its own, as honcho starts every Procfile line.
    return subprocess.Popen([sys.executable, str(RESPAWN), "--", *command],
                            start_new_session=True, stderr=subprocess.PIPE, text=True)


def test_a_command_that_dies_is_started_again(tmp_path):
    starts = tmp_path / "starts"
    crash = f"open({str(starts)!r}, 'a').write('x'); raise SystemExit(3)"
    respawn = start([sys.executable, "-c", crash])
    try:
        assert wait_until(lambda: starts.exists() and len(starts.read_text()) >= 3, timeout=20)
    finally:
        os.killpg(respawn.pid, signal.SIGTERM)
        respawn.wait(10)
    assert "exited with 3" in respawn.stderr.read()


def test_a_signal_to_the_group_stops_command_and_respawn_together(tmp_path):
    started = tmp_path / "started"
    stopped = tmp_path / "stopped"
    program = (
        "import signal, sys, time\n"
        f"open({str(started)!r}, 'a').write('1')\n"
        f"signal.signal(signal.SIGTERM, lambda *a: (open({str(stopped)!r}, 'a').write('x'),"
        " sys.exit(0)))\n"
        "while True: time.sleep(0.1)\n")
    respawn = start([sys.executable, "-c", program])
    assert wait_until(started.exists, timeout=20)

    os.killpg(respawn.pid, signal.SIGTERM)  # what honcho does on Ctrl-C

    assert respawn.wait(10) == 0
    time.sleep(1.5)  # longer than the first restart pause: nothing may start again
    assert stopped.read_text() == "x"  # the command got the signal once
    assert started.read_text() == "1"
