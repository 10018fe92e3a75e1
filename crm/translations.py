"""Compile gettext catalogs (.po -> .mo) with Babel, so no server needs GNU gettext.

Babel is already a runtime dependency (currencies); `msgfmt` is only needed by developers who
run `makemessages`. Used by `manage.py compile_translations`, `make install` and the test
suite's session fixture (root conftest.py).
"""
import os
import re
import tempfile
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


# %(name)s / %s / %d / %.2f ("%%" removed first), {name} for str.format, {{ var }} in email
# templates. No space flag: "95% confidence" and "60% or more" are not placeholders.
PERCENT_PLACEHOLDER = re.compile(r"%(?:\(\w+\))?[-#0+]*\d*(?:\.\d+)?[diouxXeEfFgGcrs]")
BRACE_PLACEHOLDER = re.compile(r"\{\{\s*[^{}]+?\s*\}\}|\{\w*\}")


def placeholders(text: str) -> Counter:
    """The placeholders in a message, so a translation can be checked against its msgid."""
    text = text.replace("%%", "")
    return Counter(PERCENT_PLACEHOLDER.findall(text) + BRACE_PLACEHOLDER.findall(text))


def placeholder_problems(msgid: str | tuple, msgstr: str | tuple) -> list[str]:
    """Translations whose placeholders differ from the msgid's (each plural form checked)."""
    expected = placeholders(msgid[-1] if isinstance(msgid, tuple) else msgid)
    forms = msgstr if isinstance(msgstr, tuple) else (msgstr,)
    return [f"{form!r} has {dict(placeholders(form))}, expected {dict(expected)}"
            for form in forms if form and placeholders(form) != expected]


class CatalogError(Exception):
    """A catalog does not parse, or a translation does not fit its message (placeholders)."""


def catalog_files(locale_dirs: Iterable[Path | str]) -> list[Path]:
    """Every <locale dir>/<language>/LC_MESSAGES/<domain>.po, sorted."""
    return sorted(po for directory in locale_dirs
                  for po in Path(directory).glob("*/LC_MESSAGES/*.po"))


def is_stale(po: Path) -> bool:
    """True when the .mo next to `po` is missing or older than it."""
    mo = po.with_suffix(".mo")
    return not mo.exists() or mo.stat().st_mtime < po.stat().st_mtime


def compile_catalog(po: Path) -> Path:
    """Write po's .mo next to it; fuzzy entries are left out, as msgfmt does by default.

    Raises CatalogError instead of writing anything when the file does not parse or a
    translation's placeholders differ from its msgid's (a renamed %(name)s crashes at run time).
    Babel's own format checker is not used: like xgettext it takes "95% confidence" for a
    placeholder.
    The file is replaced atomically, so a running server never reads half a catalog.
    """
    try:
        with po.open("rb") as source:
            catalog = read_po(source, abort_invalid=True)
    except Exception as error:  # Babel raises PoFileError, ValueError, UnicodeError, ...
        raise CatalogError(f"{po}: {error}") from error
    problems = [f"{po}:{message.lineno}: {problem}" for message in catalog if message.id
                for problem in placeholder_problems(message.id, message.string)]
    if problems:
        raise CatalogError("\n".join(problems))
    mo = po.with_suffix(".mo")
    handle, temporary = tempfile.mkstemp(dir=po.parent, prefix=".", suffix=".mo.tmp")
    try:
        with os.fdopen(handle, "wb") as target:
            write_mo(target, catalog)
        os.chmod(temporary, 0o644)
        os.replace(temporary, mo)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return mo
