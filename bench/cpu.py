"""CPU time used by the benchmark's own server processes during a load run, per request.

Requests per second on a shared VM swing by 10-20% from run to run (other guests take the
cores); the CPU a request costs the web workers and the database moves much less, so the
benchmarks print it beside the rate. On a shared machine other people's gunicorn, postgres
and redis processes run too, so only what this benchmark started is counted (Linux, /proc):

- a process tree (`Tree(pid)`): the process the bench launched (gunicorn master, a
  redis-server, a celery worker) and every descendant. Each process counts its own time plus
  that of the children it has reaped (cutime/cstime), so a worker that exits and is reaped
  by the master during the run still counts: its time moves to the master.
- PostgreSQL backends (`Backends(name)`): the backends of the bench's database whose
  `application_name` is `name`. The bench sets it in DATABASE_URL (`tagged_database_url`)
  for the processes it starts; the postmaster (shared) reaps backends, so a backend is read
  every `interval` seconds while the meter runs, and one that ends between two readings
  loses at most that interval (persistent connections, CONN_MAX_AGE, make that rare).
"""
import os
import threading
import time
from collections.abc import Callable, Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

_TICKS = os.sysconf("SC_CLK_TCK")
METER_APPLICATION = "crm-bench-meter"  # the meter's own lookup connection: never counted


def process_stat(pid: int) -> tuple[int, float, float] | None:
    """(parent pid, own CPU seconds, CPU seconds of reaped children), None once it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    # After the command name: state, ppid, ... utime (14th field of the line), stime, cutime,
    # cstime; indexes below count from the state field.
    own = (int(fields[11]) + int(fields[12])) / _TICKS
    reaped = (int(fields[13]) + int(fields[14])) / _TICKS
    return int(fields[1]), own, reaped


def descendants(roots: Iterable[int]) -> set[int]:
    """The roots and every process below them, from one pass over /proc."""
    children: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit() and (stat := process_stat(int(name))) is not None:
            children.setdefault(stat[0], []).append(int(name))
    found, todo = set(), [pid for pid in roots if os.path.exists(f"/proc/{pid}")]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


class Tree:
    """CPU of a process tree: the sum over its live processes of own + reaped-children time.

    A process that ends inside the tree is reaped by its parent (also in the tree), which
    then carries its whole time in cutime/cstime: the sum never loses it."""

    def __init__(self, *roots: int) -> None:
        self.roots = roots

    def read(self) -> float:
        total = 0.0
        for pid in descendants(self.roots):
            if (stat := process_stat(pid)) is not None:
                total += stat[1] + stat[2]
        return total


class Backends:
    """CPU of the PostgreSQL backends serving connections tagged with `application_name`.

    `connect` opens a DB-API connection to the same server (tagged METER_APPLICATION); the
    server must run on this machine (its backends are read from /proc)."""

    def __init__(self, application_name: str, connect: Callable[[], object]) -> None:
        self.application_name = application_name
        self._connect = connect
        self._connection = None
        self.baseline: dict[int, float] = {}
        self.latest: dict[int, float] = {}
        self.local = True

    def pids(self) -> list[tuple[int, int | None]]:
        """(backend pid, client port or None on a Unix socket) of every tagged connection."""
        if self._connection is None:
            self._connection = self._connect()
            self._connection.autocommit = True
        with self._connection.cursor() as cursor:
            cursor.execute("SELECT pid, client_port FROM pg_stat_activity"
                           " WHERE datname = current_database() AND application_name = %s"
                           " AND pid <> pg_backend_pid()", [self.application_name])
            return cursor.fetchall()

    def sample(self, *, first: bool = False) -> None:
        for pid, port in self.pids():
            if not _is_backend(pid, port):
                self.local = False  # a server elsewhere (or another PID namespace)
                continue
            if (stat := process_stat(pid)) is not None:
                self.latest[pid] = stat[1] + stat[2]
                if first:
                    self.baseline[pid] = self.latest[pid]

    def used(self) -> float:
        # A backend first seen after the start connected during the run: all its time counts.
        return sum(seconds - self.baseline.get(pid, 0.0) for pid, seconds in self.latest.items())

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _is_backend(pid: int, port: int | None) -> bool:
    """Whether this machine's process `pid` is that backend: a postgres process whose title
    ("postgres: crm crm 127.0.0.1(54321) idle") names the client port, when it names one (a
    server elsewhere may use a pid that is some other process here)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            title = cmdline.read()
    except OSError:
        return False
    if not title.startswith(b"postgres"):
        return False
    return port is None or b"(" not in title or f"({port})".encode() in title


def application_name() -> str:
    """The application_name of this bench run's connections (one per run: two runs on one
    database do not count each other)."""
    return f"crm-bench-{os.getpid()}"


def server_parts(server_pid: int) -> dict[str, Tree | Backends | None]:
    """The parts of a web stack the bench started: gunicorn's tree, the backends of the
    connections tagged with application_name(), and Redis when bench/run.py started it
    (CRM_BENCH_REDIS_PID); a shared Redis serves others too, so it is not measured."""
    redis = os.environ.get("CRM_BENCH_REDIS_PID")
    return {"web": Tree(server_pid),
            "database": Backends(application_name(), django_connect),
            "redis": Tree(int(redis)) if redis else None}


def tagged_database_url(url: str, application_name: str) -> str:
    """DATABASE_URL with `application_name` in its query string (django-environ passes it to
    psycopg as a connection option), so the server lists the bench's backends by that name."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "application_name"]
    query.append(("application_name", application_name))
    return urlunsplit(parts._replace(query=urlencode(query)))


def django_connect() -> object:
    """A psycopg2 connection to Django's default database, tagged as the meter's own."""
    import psycopg2
    from django.db import connection

    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params["application_name"] = METER_APPLICATION
    return psycopg2.connect(**params)


class CpuMeter:
    """with CpuMeter(web=Tree(server.pid), database=Backends(...)) as meter: <load>;
    meter.per_request(requests) -> {part: ms}. Parts passed as None print "not measured"."""

    def __init__(self, interval: float = 0.2, **parts: Tree | Backends | None) -> None:
        self.parts = parts
        self.interval = interval
        self.used: dict[str, float | None] = {}

    def __enter__(self) -> "CpuMeter":
        self._trees = {name: part.read() for name, part in self.parts.items()
                       if isinstance(part, Tree)}
        self._backends = [part for part in self.parts.values() if isinstance(part, Backends)]
        for backends in self._backends:
            backends.sample(first=True)
        self._stop = threading.Event()
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()
        self._started = time.monotonic()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            for backends in self._backends:
                backends.sample()

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._sampler.join()
        self.seconds = time.monotonic() - self._started
        for backends in self._backends:
            backends.sample()
            backends.close()
        for name, part in self.parts.items():
            if isinstance(part, Tree):
                self.used[name] = part.read() - self._trees[name]
            elif isinstance(part, Backends) and part.local:
                self.used[name] = part.used()
            else:
                self.used[name] = None

    def per_request(self, requests: int) -> dict[str, float | None]:
        return {part: None if seconds is None else 1000 * seconds / max(requests, 1)
                for part, seconds in self.used.items()}

    def summary(self, requests: int) -> str:
        per = self.per_request(requests)
        shown = [f"{part} {ms:.2f} ms" if ms is not None else f"{part} not measured"
                 for part, ms in per.items()]
        cores = [f"{part} {seconds / self.seconds:.2f}" for part, seconds in self.used.items()
                 if seconds is not None]
        return f"CPU per request: {', '.join(shown)} (cores busy: {', '.join(cores)})"


def ratio(value: float | None, baseline: float | None) -> str:
    """'2.5x' (value / baseline), or '-' when either is missing or the baseline is zero."""
    if value is None or not baseline:
        return "-"
    return f"{value / baseline:.1f}x"


def tag_this_process() -> None:
    """Tag this process's own database connections (call before django.setup()): the
    benchmarks that query in-process count their backends' CPU with `timed`."""
    if os.environ.get("DATABASE_URL", "").startswith("postgres"):
        os.environ["DATABASE_URL"] = tagged_database_url(os.environ["DATABASE_URL"],
                                                         application_name())


def timed(function: Callable[[], object]) -> tuple[float, float | None, object]:
    """(wall seconds, CPU seconds of this run's PostgreSQL backends or None, result)."""
    with CpuMeter(database=Backends(application_name(), django_connect)) as meter:
        started = time.perf_counter()
        result = function()
        seconds = time.perf_counter() - started
    return seconds, meter.used["database"], result
