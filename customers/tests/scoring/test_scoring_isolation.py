"""The scoring model package stays free of Django, so it can run anywhere numpy and scipy do."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
CHECK = (
    "import sys, customers.scoring.model, customers.scoring.model.simulate, "
    "customers.scoring.model.pipeline; "
    "leaked = sorted(m for m in sys.modules if m == 'django' or m.startswith('django.')); "
    "assert not leaked, leaked"
)


def test_importing_scoring_does_not_import_django():
    result = subprocess.run(
        [sys.executable, "-c", CHECK], cwd=REPO, capture_output=True, text=True, env={}
    )
    assert result.returncode == 0, result.stderr


def test_scoring_does_not_import_lifetimes_or_pandas():
    check = (
        "import sys, customers.scoring.model, customers.scoring.model.pipeline; "
        "assert 'lifetimes' not in sys.modules and 'pandas' not in sys.modules"
    )
    result = subprocess.run(
        [sys.executable, "-c", check], cwd=REPO, capture_output=True, text=True, env={}
    )
    assert result.returncode == 0, result.stderr
