"""Migrations stay replayable: an empty database migrates from zero to the shipped defaults, and
no migration reads the project's current code (issue #16).

A data migration that imports today's defaults runs today's code against yesterday's schema:
a field added to a default campaign later breaks every fresh migrate, and a changed text changes
what an applied migration does. So migrations carry their own frozen data (or a frozen `_name`
module in their migrations package, which Django's loader skips).

The replay tests compare the migrated database with the current defaults modules: a default
added or changed there without a new migration shipping it fails them, as it should (no database
would get it).
"""
import ast
import json
import os
import re
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from crm.tests.replay_migrate import SNAPSHOT_PREFIX

ROOT = Path(__file__).resolve().parents[2]
PROJECT_PACKAGES = frozenset(path.parent.name for path in ROOT.glob("*/__init__.py"))
MIGRATION_FILES = sorted(path for package in PROJECT_PACKAGES
                         for path in (ROOT / package / "migrations").glob("*.py"))
# Django writes a field's callables into schema operations as references to the model module
# (`import webhooks.models` ... validators=[webhooks.models.validate_endpoint_url]); they never
# touch data, and makemigrations needs the very same objects there. Callable choices too
# (shops.platforms.platform_choices: the registered platforms), which only forms read.
FIELD_CALLABLE_KEYWORDS = frozenset({"validators", "default", "choices"})


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


def _only_field_callables(tree: ast.AST, parents: dict, module: str,
                          siblings: frozenset[str] = frozenset()) -> bool:
    """Whether every use of `import <module>` is a field callable in a schema operation
    (`siblings`: the migration's other imports of the same package)."""
    top = module.split(".")[0]
    used = False
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == top):
            continue
        chain = node
        while isinstance(parents.get(chain), ast.Attribute):
            chain = parents[chain]
        dotted = _dotted(chain) or ""
        if not dotted.startswith(f"{module}."):
            if any(dotted.startswith(f"{other}.") for other in siblings):
                continue  # another import of the same package: checked on its own
            return False
        ancestor = parents.get(chain)
        while ancestor is not None and not isinstance(ancestor, ast.keyword):
            if isinstance(ancestor, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                return False  # called by RunPython: that is running current code
            ancestor = parents.get(ancestor)
        if ancestor is None or ancestor.arg not in FIELD_CALLABLE_KEYWORDS:
            return False
        used = True
    return used  # an import nothing uses is no field callable


def _imported(tree: ast.AST) -> frozenset[str]:
    return frozenset(alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
                     for alias in node.names)


def project_imports(source: str, app: str) -> list[str]:
    """The imports of project code in a migration module of `app`: anything but Django, the
    standard library, third-party packages and the app's own frozen `_name` migration modules
    (plus the app's own field callables Django itself references, see
    FIELD_CALLABLE_KEYWORDS)."""
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level:
            modules = [node.module] if node.module else [alias.name for alias in node.names]
            if node.level == 1 and all(name.startswith("_") for name in modules):
                continue  # this package's own frozen module
            found.append(f"line {node.lineno}: {'.' * node.level}{node.module or ''}")
            continue
        if isinstance(node, ast.ImportFrom):
            names = [node.module]
            if node.module == f"{app}.migrations" and all(
                    alias.name.startswith("_") for alias in node.names):
                continue
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif (isinstance(node, ast.Call)
              and (_dotted(node.func) or "").split(".")[-1] in {"import_module", "__import__"}
              and node.args and isinstance(node.args[0], ast.Constant)
              and isinstance(node.args[0].value, str)):
            names = [node.args[0].value]
        else:
            continue
        for name in names:
            if name.split(".")[0] not in PROJECT_PACKAGES:
                continue
            if name.startswith(f"{app}.migrations._"):
                continue
            if (isinstance(node, ast.Import) and name.split(".")[0] == app
                    and _only_field_callables(tree, parents, name, _imported(tree) - {name})):
                continue
            found.append(f"line {node.lineno}: {name}")
    return found


@pytest.mark.parametrize("path", MIGRATION_FILES, ids=lambda path: str(path.relative_to(ROOT)))
def test_migration_imports_no_project_code(path):
    app = path.parent.parent.name
    assert project_imports(path.read_text(encoding="utf-8"), app) == []


def test_the_import_check_finds_current_code():
    assert project_imports("from campaigns.defaults import create_defaults\n", "campaigns")
    assert project_imports("import crm.schedules\n", "crm")
    assert project_imports(  # inside the function RunPython calls
        "def seed(apps, schema_editor):\n    from customers.consent.wordings import seed\n", "privacy")
    assert project_imports("from .. import defaults\n", "campaigns")
    assert project_imports("from ._frozen import x\nfrom customers.search import f\n",
                           "campaigns")
    assert project_imports("from campaigns.migrations._frozen_0002 import T\n", "feedback")
    assert project_imports("import importlib\nimportlib.import_module('crm.schedules')\n",
                           "crm")
    assert project_imports(  # a model module used for data, not as a field's callable
        "import webhooks.models\n\ndef f(apps, schema_editor):\n"
        "    webhooks.models.secret_generate()\n", "webhooks")
    assert project_imports("import webhooks.models\nX = webhooks.models.Y\n", "webhooks")


def test_the_import_check_allows_the_apps_field_callables_from_two_modules():
    assert project_imports(
        "import shops.models\nimport shops.platforms\nfrom django.db import models\n"
        "F = models.CharField(choices=shops.platforms.platform_choices,\n"
        "                     default=shops.models.new_token)\n", "shops") == []
    assert project_imports(
        "import shops.models\nimport shops.platforms\n"
        "def f(apps, schema_editor):\n    shops.platforms.load()\n"
        "F = models.CharField(default=shops.models.new_token)\n", "shops") == [
        "line 2: shops.platforms"]


def test_the_import_check_allows_frozen_modules_and_field_callables():
    assert project_imports("import datetime\nfrom django.db import migrations\n"
                           "from ._frozen_0002 import TEMPLATES\n"
                           "from campaigns.migrations._frozen_0004 import T\n", "campaigns") == []
    assert project_imports(
        "import webhooks.models\nfrom django.db import models\n"
        "F = models.URLField(validators=[webhooks.models.validate_endpoint_url],\n"
        "                    default=webhooks.models.secret_generate)\n", "webhooks") == []


def test_frozen_migration_modules_are_imported_by_migrations_only():
    """A frozen module that other code used would be edited for that code's sake one day."""
    pattern = re.compile(r"migrations\._|migrations import _")
    users = [str(path.relative_to(ROOT)) for package in PROJECT_PACKAGES
             for path in (ROOT / package).rglob("*.py")
             if "migrations" not in path.parts and path != Path(__file__)
             and pattern.search(path.read_text(encoding="utf-8"))]
    assert users == []


# The replay: a real `migrate` from zero, in a process of its own.

def _postgres_connection(database: str):
    import psycopg2

    db = settings.DATABASES["default"]
    connection = psycopg2.connect(dbname=database, user=db["USER"], password=db["PASSWORD"],
                                  host=db["HOST"], port=db["PORT"] or None)
    connection.autocommit = True  # CREATE/DROP DATABASE cannot run in a transaction
    return connection


@pytest.fixture(scope="module")
def fresh_database_url(tmp_path_factory):
    """An empty database of the kind the suite runs on (a temporary file, or a new database on
    the PostgreSQL server of DATABASE_URL)."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        yield f"sqlite:///{tmp_path_factory.mktemp('replay') / 'db.sqlite3'}"
        return
    name = f"crm_replay_{uuid.uuid4().hex[:12]}"
    connection = _postgres_connection("postgres")
    try:
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        yield urlsplit(os.environ["DATABASE_URL"])._replace(path=f"/{name}").geturl()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.close()


@pytest.fixture(scope="module")
def replayed(fresh_database_url) -> dict:
    """What `migrate` from zero leaves, with the current defaults modules changed as a later
    release's would be (crm/tests/replay_migrate.py)."""
    result = subprocess.run(
        [sys.executable, "-m", "crm.tests.replay_migrate"], cwd=ROOT, capture_output=True,
        text=True, timeout=600,
        env={**os.environ, "DATABASE_URL": fresh_database_url,
             "DJANGO_SETTINGS_MODULE": settings.SETTINGS_MODULE})
    assert result.returncode == 0, result.stderr[-4000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith(SNAPSHOT_PREFIX))
    return json.loads(line[len(SNAPSHOT_PREFIX):])


@pytest.mark.slow
def test_fresh_database_has_the_default_schedules(replayed):
    from crm.schedules import DEFAULT_SCHEDULES

    expected = [
        {"name": s.name, "task": s.task, "every_minutes": s.every_minutes,
         "period": "minutes" if s.every_minutes else None,
         "crontab": None if s.every_minutes else [*s.crontab, "*", "*", "*", settings.TIME_ZONE]}
        for s in DEFAULT_SCHEDULES]
    assert sorted(replayed["schedules"], key=lambda s: s["name"]) == \
        sorted(expected, key=lambda s: s["name"])


@pytest.mark.slow
def test_fresh_database_has_the_role_groups(replayed):
    from accounts.roles import ROLE_PERMISSIONS

    def expand(spec: str) -> set[str]:
        app_label, codename = spec.split(".", 1)
        return {perm for perm in replayed["permissions"]
                if perm.split(".", 1)[0] == app_label and codename in ("*", perm.split(".", 1)[1])}

    expected = {name: sorted(set().union(*map(expand, specs)))
                for name, specs in ROLE_PERMISSIONS.items()}
    assert replayed["groups"] == expected
    assert "customers.view_consentrecord" in replayed["groups"]["Sales staff"]


@pytest.mark.slow
def test_fresh_database_has_the_default_campaigns_in_english(replayed):
    from campaigns import defaults
    from feedback import defaults as feedback_defaults

    shipped_templates = [*defaults.TEMPLATES, feedback_defaults.TEMPLATE]
    assert set(replayed["templates"]) == {data["name"] for data in shipped_templates}
    for data in shipped_templates:
        template = replayed["templates"][data["name"]]
        assert template["subject"] == data["subject"]
        assert template["body_text"] == data["body_text"]
        assert template["body_html"] == data.get("body_html", "")

    survey_campaign = {**feedback_defaults.CAMPAIGN,
                       "template": feedback_defaults.TEMPLATE["name"]}
    shipped_campaigns = [*defaults.CAMPAIGNS, survey_campaign]
    assert set(replayed["campaigns"]) == {data["name"] for data in shipped_campaigns}
    for data in shipped_campaigns:
        campaign = replayed["campaigns"][data["name"]]
        assert campaign["is_active"] is False  # shipped off, a manager switches them on
        for key, value in data.items():
            if key == "template":
                assert campaign["template__name"] == value
            elif key == "coupon_value":
                assert Decimal(campaign[key]) == Decimal(value)
            else:
                assert campaign[key] == value, (data["name"], key)


@pytest.mark.slow
def test_fresh_database_has_the_turkish_translations(replayed):
    from feedback.defaults_tr import LANGUAGE, TRANSLATIONS

    for name, template in replayed["templates"].items():
        if name not in TRANSLATIONS:
            assert template["translations"] == {}
            continue
        texts = TRANSLATIONS[name]
        assert template["translations"] == {LANGUAGE: {
            "subject": texts["subject"], "body_text": texts["body_text"],
            "body_html": texts.get("body_html", "")}}
    assert set(TRANSLATIONS) <= set(replayed["templates"])


@pytest.mark.slow
def test_fresh_database_has_the_first_consent_wordings(replayed):
    from customers.consent.wordings import INITIAL_PUBLISHED_AT, INITIAL_VERSION, INITIAL_WORDINGS

    assert sorted(replayed["wordings"], key=lambda w: w["language"]) == [
        {"purpose": purpose, "language": language, "version": INITIAL_VERSION, "text": text,
         "published_at": INITIAL_PUBLISHED_AT.isoformat()}
        for (purpose, language), text in sorted(INITIAL_WORDINGS.items())]


@pytest.mark.slow
@pytest.mark.postgres
def test_fresh_database_has_the_search_fold_indexes(replayed):
    """The planner uses them only if they match customers.search's expression exactly."""
    from customers.search import FOLD_FROM, FOLD_TO

    assert replayed["vendor"] == "postgresql"
    assert set(replayed["indexes"]) == {
        f"contact_{column}_fold_trgm" for column in ("email", "first_name", "last_name")}
    for definition in replayed["indexes"].values():
        assert f"'{FOLD_FROM}'" in definition and f"'{FOLD_TO}'" in definition
