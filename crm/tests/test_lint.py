"""ruff with the rules chosen in pyproject.toml, over the whole tree: the same check
pre-commit runs before a commit, here so that CI runs it too."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RUFF = Path(sys.executable).with_name("ruff")


def test_ruff_finds_nothing():
    done = subprocess.run([str(RUFF), "check", "--no-cache", "--output-format", "concise", "."],
                          cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 0, done.stdout + done.stderr
