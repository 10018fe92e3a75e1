"""mypy with django-stubs over what issue #16 asks to be checked (pyproject.toml [tool.mypy]:
every app's services and selectors, and the scoring), the same check pre-commit runs, here so
that CI runs it too."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_mypy_finds_nothing(tmp_path):
    # A cache of its own: a stale shared cache could hide an error, and two test processes
    # must not write one cache at once.
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600, check=False)

    assert done.returncode == 0, done.stdout + done.stderr
