"""CPU time used by the server side during a load run, per request.

Requests per second on a shared VM swing by 10-20% from run to run (other guests take the
cores); the CPU a request costs the web workers and the database moves much less, so the
benchmarks print it beside the rate. Read from /proc (Linux): user + system time of every
process whose command line names the part.
"""
import os
import time

PARTS = {"web": "gunicorn", "database": "postgres", "redis": "redis-server"}
_TICKS = os.sysconf("SC_CLK_TCK")


def _cpu_seconds() -> dict[tuple[str, str], float]:
    used = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        for part, name in PARTS.items():
            if name in command:
                used[(pid, part)] = (int(fields[11]) + int(fields[12])) / _TICKS
    return used


class CpuMeter:
    """with CpuMeter() as meter: <load>; meter.per_request(requests) -> {part: ms}"""

    def __enter__(self) -> "CpuMeter":
        self._before, self._started = _cpu_seconds(), time.monotonic()
        return self

    def __exit__(self, *exc) -> None:
        after = _cpu_seconds()
        self.seconds = time.monotonic() - self._started
        self.used = {part: 0.0 for part in PARTS}
        for (pid, part), seconds in after.items():
            self.used[part] += seconds - self._before.get((pid, part), 0.0)

    def per_request(self, requests: int) -> dict[str, float]:
        return {part: 1000 * seconds / max(requests, 1) for part, seconds in self.used.items()}

    def summary(self, requests: int) -> str:
        per = self.per_request(requests)
        cores = {part: seconds / self.seconds for part, seconds in self.used.items()}
        return ("CPU per request: " + ", ".join(f"{part} {ms:.2f} ms" for part, ms in per.items())
                + " (cores busy: " + ", ".join(f"{part} {n:.2f}" for part, n in cores.items())
                + ")")
