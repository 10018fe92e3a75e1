"""Import benchmark: the real `manage.py import_purchases` on PostgreSQL, first run and re-run.

    DATABASE_URL=postgres://... python bench/bench_import.py [--rows 100000 1000000]
        [--workdir /tmp/crm-bench] [--append docs/benchmarks.md] [--check]

For each size: write an export-like CSV (bench.generate.write_import_csv, cached in --workdir),
empty the contacts and purchases tables, run the command in a child process and measure wall
time, rows per second, the child's peak RSS and CPU time (os.wait4), then run the same file
again (nothing new: the idempotent path), then, as the same-run baseline, a raw PostgreSQL COPY
of the same file into a scratch table of text columns (no checks, no merge: the floor for
moving these bytes into this server), each with the ratio command / COPY. The database CPU
beside each is that of the backends serving the measured child only (bench/cpu.py). --check
also verifies that every contact's figures match its purchases (slow on big tables). Prints a
Markdown table; --append adds it, with the machine description, to a file. Empties the
contacts and purchases tables: benchmark databases only.
"""
import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.cpu import Backends, CpuMeter, application_name, django_connect  # noqa: E402
from bench.cpu import ratio, tagged_database_url  # noqa: E402
from bench.generate import setup_django, write_import_csv  # noqa: E402

TARGET_ROWS_PER_SECOND = 50_000


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    output: str
    database_cpu_seconds: float | None = None


@dataclass
class Measurement:
    rows: int
    first: Run
    again: Run
    raw_copy: Run


def run_command(csv_path: Path) -> Run:
    return run_manage("import_purchases", str(csv_path))


def run_manage(*args: str) -> Run:
    """`manage.py ARGS` in a child process; its own peak RSS and CPU via wait4."""
    return run_child(str(ROOT / "manage.py"), *args)


# The same-run baseline: the file as it is, COPYed into a scratch (temporary) table.
RAW_COPY = """
import sys, psycopg2
with open(sys.argv[1], encoding="utf-8") as source:
    columns = source.readline().strip().split(",")
    source.seek(0)
    connection = psycopg2.connect(sys.argv[2])
    with connection, connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE bench_raw_copy (%s)"
                       % ", ".join('"%s" text' % column for column in columns))
        cursor.copy_expert("COPY bench_raw_copy FROM STDIN WITH (FORMAT csv, HEADER true)", source)
        cursor.execute("SELECT count(*) FROM bench_raw_copy")
        print(cursor.fetchone()[0], "rows copied")
"""


def run_raw_copy(csv_path: Path) -> Run:
    return run_child("-c", RAW_COPY, str(csv_path), tagged_url())


def tagged_url() -> str:
    """DATABASE_URL with this run's application_name: the meter counts these backends."""
    return tagged_database_url(os.environ["DATABASE_URL"], application_name())


# Linux saves the spawning process's memory high-water mark into a child's ru_maxrss when
# it execs, so a child spawned by this (large) process reports at least this process's peak.
# A small launcher forks the measured child instead and hands back that child's own wait4
# figures: its peak RSS starts from the launcher's few MB.
LAUNCHER = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_pid, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}")
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_child(*args: str) -> Run:
    """`python ARGS` in a child process: wall time, its own peak RSS and CPU via wait4 (through
    LAUNCHER), and the CPU of the PostgreSQL backends serving it (its connections carry this
    run's application_name)."""
    environ = {**os.environ, "DATABASE_URL": tagged_url()}
    with tempfile.NamedTemporaryFile("r", prefix="crm-bench-rusage.") as rusage, \
            CpuMeter(database=Backends(application_name(), django_connect)) as meter:
        started = time.perf_counter()
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", LAUNCHER, rusage.name, *args],
            cwd=ROOT, env=environ, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        output = child.stdout.read()
        returncode = child.wait()
        seconds = time.perf_counter() - started
        figures = rusage.read().split()
    if returncode != 0 or len(figures) != 2:
        sys.exit(f"{' '.join(args[:2])} failed ({returncode}):\n{output}")
    peak_kb, cpu_seconds = figures
    return Run(seconds=seconds, peak_rss_mb=int(peak_kb) / 1024, cpu_seconds=float(cpu_seconds),
               output=output.strip(), database_cpu_seconds=meter.used["database"])


def empty_tables() -> None:
    from django.db import connection

    from customers.models import Contact, Purchase

    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {Purchase._meta.db_table}, {Contact._meta.db_table} CASCADE")
        cursor.execute(f"VACUUM ANALYZE {Purchase._meta.db_table}")
        cursor.execute(f"VACUUM ANALYZE {Contact._meta.db_table}")


def check_figures(rows: int) -> None:
    from customers.models import Purchase
    from customers.stats import contacts_with_drift

    stored = Purchase.objects.count()
    drifted = contacts_with_drift().count()
    if stored != rows or drifted:
        sys.exit(f"check failed: {stored} purchases stored for {rows} rows, {drifted} drifted")
    print(f"  check: {stored:,} purchases, no contact drift")


def measure(rows: int, workdir: Path, check: bool) -> Measurement:
    csv_path = workdir / f"purchases-{rows}.csv"
    if not csv_path.exists():
        print(f"writing {csv_path} ...", flush=True)
        write_import_csv(csv_path, rows=rows)
    empty_tables()
    print(f"importing {rows:,} rows ...", flush=True)
    first = run_command(csv_path)
    print("  " + first.output.replace("\n", "\n  "))
    if check:
        check_figures(rows)
    print(f"importing {rows:,} rows again ...", flush=True)
    again = run_command(csv_path)
    print(f"raw COPY of the same {rows:,} rows (baseline) ...", flush=True)
    raw_copy = run_raw_copy(csv_path)
    return Measurement(rows=rows, first=first, again=again, raw_copy=raw_copy)


def table(results: list[Measurement]) -> str:
    lines = [
        "| rows | run | wall | rows/s | peak RSS | CPU (child) | CPU (database) "
        "| wall / raw COPY's |",
        "|---:|---|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        for name, run in (("first run", m.first), ("re-run", m.again),
                          ("raw COPY (baseline)", m.raw_copy)):
            database = ("not measured" if run.database_cpu_seconds is None
                        else f"{run.database_cpu_seconds:.1f} s")
            lines.append(
                f"| {m.rows:,} | {name} | {run.seconds:.1f} s | {m.rows / run.seconds:,.0f} "
                f"| {run.peak_rss_mb:.0f} MB | {run.cpu_seconds:.1f} s | {database} "
                f"| {ratio(run.seconds, m.raw_copy.seconds)} |")
    return "\n".join(lines)


def machine() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        postgres = cursor.fetchone()[0]
    memory = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.split("\n")[1]
    return (f"{dt.datetime.now():%Y-%m-%d %H:%M}, {os.cpu_count()} CPUs "
            f"({platform.processor() or platform.machine()}), memory `{' '.join(memory.split())}`"
            f", Python {platform.python_version()}, PostgreSQL {postgres}, "
            f"load average before the run {os.getloadavg()[0]:.2f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/crm-bench"))
    parser.add_argument("--append", type=Path, help="append the results to this Markdown file")
    parser.add_argument("--check", action="store_true",
                        help="verify purchases and contact figures after each first run")
    args = parser.parse_args(argv)
    setup_django()
    from django.db import connection

    if connection.vendor != "postgresql":
        sys.exit("bench_import.py measures PostgreSQL only: set DATABASE_URL=postgres://...")
    args.workdir.mkdir(parents=True, exist_ok=True)
    described = machine()
    results = [measure(rows, args.workdir, args.check) for rows in args.rows]
    report = (f"\n{described}\n\n{table(results)}\n\n"
              f"Aim: {TARGET_ROWS_PER_SECOND:,} rows/s through the command.\n")
    print(report)
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write(report)


if __name__ == "__main__":
    main()
