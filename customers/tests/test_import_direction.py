"""customers imports no app built on it, not even inside a function (docs/architecture.md).

The apps above customers register with customers.hooks from their AppConfig.ready(); an
import of one of them from customers/ (tests aside) fails here, whatever its depth in the file.
"""
import ast
from pathlib import Path

import customers

HIGHER_APPS = frozenset({"campaigns", "feedback", "support", "activity", "webhooks", "privacy",
                         "api", "connectors", "dashboard"})

ROOT = Path(customers.__file__).resolve().parent


def _imported_modules(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, module) for every import in the tree, nested in functions and classes too,
    and for importlib.import_module("...") / __import__("...") with a literal name."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
        elif (isinstance(node, ast.Call) and node.args
              and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)
              and ((isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
                   or (isinstance(node.func, ast.Name)
                       and node.func.id in {"import_module", "__import__"}))):
            found.append((node.lineno, node.args[0].value))
    return found


def backward_imports(source: str) -> list[tuple[int, str]]:
    return [(line, module) for line, module in _imported_modules(ast.parse(source))
            if module.split(".")[0] in HIGHER_APPS]


def _sources() -> list[Path]:
    return sorted(path for path in ROOT.rglob("*.py")
                  if "tests" not in path.relative_to(ROOT).parts)


def test_the_checker_finds_imports_at_any_depth():
    source = '''
import json
from campaigns.coupons import CodeOutcome
def f():
    if True:
        from webhooks import services as w
    import support.models
class A:
    def g(self):
        importlib.import_module("feedback.selectors")
from .models import Contact
from customers.hooks import Hook
'''
    assert sorted(backward_imports(source)) == [
        (3, "campaigns.coupons"), (6, "webhooks"), (7, "support.models"),
        (10, "feedback.selectors")]


def test_customers_imports_no_higher_app():
    offending = []
    for path in _sources():
        for line, module in backward_imports(path.read_text(encoding="utf-8")):
            offending.append(f"{path.relative_to(ROOT.parent)}:{line} imports {module}")
    assert not offending, (
        "customers must not import the apps built on it; add a hook to customers/hooks.py "
        "and register from the app's AppConfig.ready():\n" + "\n".join(offending))


def test_the_walk_covers_the_modules_that_used_to_import_upwards():
    names = {str(path.relative_to(ROOT)) for path in _sources()}
    # (views.py, kpis.py, selectors.py and the demo loader moved to the dashboard app, on top.)
    assert {"services/purchases.py", "stats.py", "tasks.py", "imports/purchases.py",
            "admin/contacts.py", "management/commands/import_purchases.py",
            "services/contacts.py", "imports/contacts.py", "forms.py"} <= names
