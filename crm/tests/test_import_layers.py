"""The apps' dependency direction (.importlinter, docs/architecture.md): api and dashboard on
top, the feature apps in three layers (feedback, support and privacy; campaigns;
webhooks and activity), customers (with the consent ledger) below them, crm and accounts at
the bottom. The contract ignores only tests' imports; anything else upward fails here."""
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
    """The contract bites: swap two layers (campaigns above feedback, which builds on it) and
    the check fails on feedback's imports of campaigns."""
    config = tmp_path / "importlinter.ini"
    text = (ROOT / ".importlinter").read_text()
    layers = "    feedback | support | privacy\n    campaigns\n"
    assert layers in text
    config.write_text(text.replace(layers, "    campaigns\n    feedback | support | privacy\n"))

    done = lint(config)

    assert done.returncode != 0
    assert "feedback.models -> campaigns.models" in done.stdout
