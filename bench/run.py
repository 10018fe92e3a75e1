"""Run every benchmark with one command (`make bench`), on PostgreSQL.

Uses DATABASE_URL when it points at PostgreSQL; otherwise starts a throw-away PostgreSQL and
Redis on loopback (scripts/services.sh, ports 55442/56389), migrates, runs, and stops them.
Results are printed; record them with the machine and date in docs/benchmarks.md.

    .venv/bin/python bench/run.py [--quick] [--only NAME ...]
"""
import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTHON = sys.executable

FULL = {
    "scoring_math": ["bench/bench_scoring_math.py", "--customers", "1000000"],
    "scoring_pipeline": ["bench/bench_scoring_pipeline.py", "--contacts", "1000000"],
    "import": ["bench/bench_import.py", "--rows", "100000", "1000000", "--check"],
    "scoring_job": ["bench/bench_scoring_job.py", "--contacts", "1000000"],
    "audience": ["bench/bench_audience.py"],
    "sending": ["bench/bench_sending.py", "--messages", "100000", "--processes", "2"],
    "api": ["bench/bench_api.py", "--contacts", "1000000", "--seconds", "30"],
    "rederive": ["bench/bench_rederive.py", "--contacts", "1000000"],
    "shop_backfill": ["bench/bench_shop_backfill.py", "--orders", "100000"],
    "shop_webhooks": ["bench/bench_shop_webhooks.py", "--seconds", "30"],
    "clicks": ["bench/bench_clicks.py", "--seconds", "30"],
}
QUICK = {
    "scoring_math": ["bench/bench_scoring_math.py", "--customers", "100000",
                     "--lifetimes", "10000"],
    "scoring_pipeline": ["bench/bench_scoring_pipeline.py", "--contacts", "100000"],
    "import": ["bench/bench_import.py", "--rows", "100000"],
    "scoring_job": ["bench/bench_scoring_job.py", "--contacts", "100000", "--runs", "1"],
    "audience": ["bench/bench_audience.py", "--contacts", "100000"],
    "sending": ["bench/bench_sending.py", "--messages", "5000", "--processes", "2"],
    "api": ["bench/bench_api.py", "--contacts", "100000", "--seconds", "5"],
    "rederive": ["bench/bench_rederive.py", "--contacts", "100000", "--drift", "100"],
    "shop_backfill": ["bench/bench_shop_backfill.py", "--orders", "5000"],
    "shop_webhooks": ["bench/bench_shop_webhooks.py", "--seconds", "5"],
    "clicks": ["bench/bench_clicks.py", "--seconds", "5", "--emails", "500"],
}


def _services(directory: str) -> dict[str, str]:
    script = ROOT / "scripts" / "services.sh"
    printed = subprocess.run([str(script), "start", directory, "55442", "56389"],
                             check=True, capture_output=True, text=True).stdout
    values = {}
    for line in printed.splitlines():
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = value.strip("'\"")
    # This Redis is the bench's own: bench/cpu.py counts its CPU (a shared one it does not).
    values["CRM_BENCH_REDIS_PID"] = (Path(directory) / "redis.pid").read_text().strip()
    return values


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--only", nargs="+", choices=sorted(FULL), default=sorted(FULL))
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="crm.settings.local")
    started_here = None
    if not env.get("DATABASE_URL", "").startswith("postgres"):
        started_here = tempfile.mkdtemp(prefix="crm-bench-services.")
        env.update(_services(started_here))
    try:
        subprocess.run([PYTHON, "manage.py", "migrate", "--no-input", "-v0"],
                       cwd=ROOT, env=env, check=True)
        failed = []
        for name in args.only:
            print(f"\n== {name}: {' '.join(plan[name])}", flush=True)
            if subprocess.run([PYTHON, *plan[name]], cwd=ROOT, env=env).returncode:
                failed.append(name)
        if failed:
            print(f"\nFailed: {', '.join(failed)}")
        return 1 if failed else 0
    finally:
        if started_here:
            subprocess.run([str(ROOT / "scripts" / "services.sh"), "stop", started_here])


if __name__ == "__main__":
    sys.exit(main())
