"""Every CSV the product writes for people goes through crm.csv_safe's writers.

A new exporter that takes csv.writer or csv.DictWriter directly would write a cell such as
=HYPERLINK(...) raw into someone's spreadsheet; this test names it. Only the places below
may use them: the safe writers themselves, and machine data that no person opens.
"""
import ast
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RAW_WRITERS = frozenset({"writer", "DictWriter"})
SKIPPED_FOLDERS = frozenset({".git", ".venv", "node_modules", "var", "static", "tests", "bench",
                             "__pycache__"})

# (module path, enclosing function or class) -> why the raw writer is right there.
ALLOWED = {
    ("crm/csv_safe.py", "SafeCSVWriter.__init__"): "the safe writer wraps csv.writer",
    ("customers/imports/purchase_staging.py", "Staging._copy"): "PostgreSQL COPY input: an "
                                                             "apostrophe would be stored in "
                                                             "the values",
    ("customers/imports/purchase_lines.py", "_lines_write"): "PostgreSQL COPY input: ids "
                                                             "and numbers only",
    ("dashboard/management/commands/load_demo_data.py", "Command._contact_details"): (
        "the contacts import's input, machine-made: a guarded +90 phone would arrive as '+90"),
}


class _RawWriterUses(ast.NodeVisitor):
    """Where a module refers to csv.writer / csv.DictWriter, under any import alias."""

    def __init__(self):
        self.modules: set[str] = set()  # names bound to the csv module
        self.direct: set[str] = set()   # names bound to csv.writer or csv.DictWriter
        self.scope: list[str] = []
        self.found: list[tuple[str, int]] = []

    def visit_Import(self, node):
        self.modules.update(alias.asname or alias.name for alias in node.names
                            if alias.name == "csv")

    def visit_ImportFrom(self, node):
        if node.module == "csv":
            self.direct.update(alias.asname or alias.name for alias in node.names
                               if alias.name in RAW_WRITERS or alias.name == "*")

    def _scoped(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def visit_Attribute(self, node):
        if (node.attr in RAW_WRITERS and isinstance(node.value, ast.Name)
                and node.value.id in self.modules):
            self.found.append((".".join(self.scope), node.lineno))
        self.generic_visit(node)

    def visit_Name(self, node):
        if node.id in self.direct or "*" in self.direct and node.id in RAW_WRITERS:
            self.found.append((".".join(self.scope), node.lineno))


def raw_writer_uses(source: str) -> list[tuple[str, int]]:
    """(enclosing scope, line) of every reference to a raw csv writer in `source`."""
    finder = _RawWriterUses()
    finder.visit(ast.parse(source))
    return finder.found


def product_modules():
    """(path from the project root, path) of every module that is not a test or a benchmark."""
    for folder, subfolders, files in os.walk(ROOT):
        subfolders[:] = sorted(name for name in subfolders if name not in SKIPPED_FOLDERS)
        for file in sorted(files):
            if file.endswith(".py") and not (file.startswith("test_") or file == "conftest.py"):
                path = Path(folder, file)
                yield path.relative_to(ROOT).as_posix(), path


def test_no_module_writes_csv_for_people_with_a_raw_writer():
    offending, allowed_seen = [], set()
    for name, path in product_modules():
        for scope, line in raw_writer_uses(path.read_text(encoding="utf-8")):
            if (name, scope) in ALLOWED:
                allowed_seen.add((name, scope))
            else:
                offending.append(f"{name}:{line} ({scope or 'module level'})")

    assert offending == [], ("Write CSV with crm.csv_safe.SafeCSVWriter / SafeCSVDictWriter "
                             "(formula-safe cells), not csv.writer / csv.DictWriter")
    assert allowed_seen == set(ALLOWED)  # an entry no longer needed is removed from the list


def test_the_scan_sees_every_way_of_reaching_a_raw_writer():
    source = """
import csv
import csv as spreadsheet
from csv import DictWriter as Rows, reader

def export(out):
    csv.writer(out).writerow(["=1"])

class Report:
    def write(self, out):
        make = spreadsheet.writer
        Rows(out, ["a"]).writeheader()
        reader(out)
"""
    assert raw_writer_uses(source) == [("export", 7), ("Report.write", 11),
                                       ("Report.write", 12)]


def test_the_scan_covers_the_apps():
    names = {name for name, _path in product_modules()}

    assert {"customers/imports/purchases.py", "customers/imports/jobs.py", "crm/admin_tools.py",
            "privacy/services.py"} <= names
    assert not any(name.startswith(("bench/", ".venv/")) or "/tests/" in name for name in names)
