"""Import benchmark: the real `manage.py import_purchases` on PostgreSQL, first run and re-run.

    DATABASE_URL=postgres://... python bench/bench_import.py [--rows 100000 1000000]
        [--workdir /tmp/crm-bench] [--append docs/benchmarks.md] [--check]

For each size: write an export-like CSV (bench.generate.write_import_csv, cached in --workdir),
empty the contacts and purchases tables, run the command in a child process and measure wall
time, rows per second, the child's peak RSS and CPU time (os.wait4), then run the same file
again (nothing new: the idempotent path). --check also verifies that every contact's figures
match its purchases (slow on big tables). Prints a Markdown table; --append adds it, with the
machine description, to a file. Empties the contacts and purchases tables: benchmark
databases only.
"""
import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.generate import setup_django, write_import_csv  # noqa: E402

TARGET_ROWS_PER_SECOND = 50_000


@dataclass
class Run:
    seconds: float
    peak_rss_mb: float
    cpu_seconds: float
    output: str


@dataclass
class Measurement:
    rows: int
    first: Run
    again: Run


def run_command(csv_path: Path) -> Run:
    return run_manage("import_purchases", str(csv_path))


def run_manage(*args: str) -> Run:
    """`manage.py ARGS` in a child process; its own peak RSS and CPU via wait4."""
    started = time.perf_counter()
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), *args],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        sys.exit(f"manage.py {args[0]} failed ({child.returncode}):\n{output}")
    return Run(seconds=seconds, peak_rss_mb=usage.ru_maxrss / 1024,
               cpu_seconds=usage.ru_utime + usage.ru_stime, output=output.strip())


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
    return Measurement(rows=rows, first=first, again=again)


def table(results: list[Measurement]) -> str:
    lines = [
        "| rows | first run | rows/s | peak RSS | CPU (child) | re-run | re-run rows/s |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for m in results:
        lines.append(
            f"| {m.rows:,} | {m.first.seconds:.1f} s | {m.rows / m.first.seconds:,.0f} "
            f"| {m.first.peak_rss_mb:.0f} MB | {m.first.cpu_seconds:.1f} s "
            f"| {m.again.seconds:.1f} s | {m.rows / m.again.seconds:,.0f} |")
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
