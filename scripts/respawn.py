#!/usr/bin/env python3
"""Run a command, and start it again whenever it dies; stop with it on SIGTERM/SIGINT.

`make run` starts web, worker and beat with honcho, which stops everything as soon as one of
them exits. A worker that dies (a crash of a dependency, an out-of-memory kill) would take the
whole demo down, or, with honcho's siblings gone, leave nothing sending. The Procfile runs the
worker and beat under this script, as systemd's Restart=always does in production
(deploy/systemd/crm-worker.service):

    python scripts/respawn.py -- .venv/bin/celery -A crm worker ...

The pause before a restart grows from 1 s to 30 s while the command keeps dying within a
minute of starting, and is 1 s again after it ran for a minute.

Stopping: the command runs in this script's process group, and honcho (like a terminal's
Ctrl-C) signals the whole group, so the command gets the signal itself, once; this script only
stops starting it again and waits for it. (Forwarding as well would be a second SIGINT, which
Celery takes as "stop now, abandon running tasks".)
"""
import signal
import subprocess
import sys
import time

FIRST_PAUSE, LONGEST_PAUSE, STEADY_SECONDS = 1.0, 30.0, 60.0


def main(argv: list[str]) -> int:
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        print("usage: respawn.py -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    stopping = False

    def stop(_signum, _frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    pause = FIRST_PAUSE
    while True:
        started = time.monotonic()
        child = subprocess.Popen(command)
        code = child.wait()
        if stopping:
            return code
        ran = time.monotonic() - started
        pause = FIRST_PAUSE if ran >= STEADY_SECONDS else min(pause * 2, LONGEST_PAUSE)
        print(f"respawn: {command[0]} exited with {code} after {ran:.0f} s; "
              f"starting it again in {pause:.0f} s", file=sys.stderr, flush=True)
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
        if stopping:
            return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
