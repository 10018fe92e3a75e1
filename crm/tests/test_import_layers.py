"""The apps' dependency direction (.importlinter, docs/architecture.md): api and dashboard on
top, the feature apps independent of each other, customers below them, crm and accounts at the
bottom. The contract's ignore list is today's debt; anything new fails here."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint(config: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT_IMPORTS), "--config", str(config), "--no-cache"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_every_import_points_down_the_layers():
    done = lint(ROOT / ".importlinter")

    assert done.returncode == 0, done.stdout + done.stderr


def test_an_upward_import_not_in_the_debt_list_is_refused(tmp_path):
    """The contract bites: take one known exception off the list and the check fails on it."""
    config = tmp_path / "importlinter.ini"
    lines = (ROOT / ".importlinter").read_text().splitlines()
    config.write_text("\n".join(line for line in lines
                                if line.strip() != "campaigns.views -> privacy.models"))

    done = lint(config)

    assert done.returncode != 0
    assert "campaigns.views -> privacy.models" in done.stdout
