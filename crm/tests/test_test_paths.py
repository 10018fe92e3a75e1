"""Every app's tests run: an app missing from pytest.ini's testpaths would be skipped silently."""
import configparser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_tests_folder_is_collected():
    config = configparser.ConfigParser()
    config.read(ROOT / "pytest.ini")
    collected = set(config["pytest"]["testpaths"].split())
    with_tests = {path.parent.name for path in ROOT.glob("*/tests") if path.is_dir()}
    assert with_tests - collected == set()
