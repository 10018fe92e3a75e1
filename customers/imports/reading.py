"""Reading an import file, shared by the purchase and the contact import: opening it, UTF-8
(with or without BOM) in blocks cut at line ends, the delimiter and decimal separator told by
the header, the header's column names, the size limits (CRM_IMPORT_MAX_COLUMNS,
CRM_IMPORT_MAX_LINE_BYTES), amounts written with a decimal comma, and the report of rejected
rows (written formula-safe). Anything that refuses the file as a whole raises ImportRefused.
"""
import csv
import io
import os
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from typing import BinaryIO, TextIO

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.csv_safe import SafeCSVWriter

MAX_ERRORS_KEPT = 1000  # in ImportResult.errors; errors_file gets every one

_READ_BYTES = 1 << 20
_UTF8_BOM = b"\xef\xbb\xbf"

RowError = tuple[int, str, list[str]]


class ImportRefused(Exception):
    """The input as a whole cannot be imported (encoding, header, malformed CSV); nothing was."""


# --- Reading --------------------------------------------------------------------------------

@contextmanager
def opened(file: TextIO | BinaryIO | str | os.PathLike) -> Iterator[TextIO | BinaryIO]:
    if isinstance(file, (str, os.PathLike)):
        with open(file, "rb") as stream:
            yield stream
    else:
        yield file  # the caller's file: the caller closes it


@dataclass(frozen=True)
class CSVLayout:
    """How a file separates fields and writes decimals: spreadsheets saving CSV in a locale
    whose decimal separator is a comma (Turkish, German...) separate fields with ";" and
    write 1.234,50."""

    delimiter: str = ","
    decimal_comma: bool = False


def csv_records(stream: TextIO | BinaryIO) -> tuple[Iterator[tuple[int, list[str]]], CSVLayout]:
    """Numbered records of a CSV stream, and its layout, told by the header line: a header
    with more semicolons than commas is a semicolon file with decimal commas.

    A line longer than CRM_IMPORT_MAX_LINE_BYTES refuses the file as soon as it is met, after
    reading at most that much of it: a 1M-column header is refused without being parsed."""
    lines = _text_lines(stream, settings.CRM_IMPORT_MAX_LINE_BYTES)
    first = next(lines, "")
    layout = (CSVLayout(";", decimal_comma=True) if first.count(";") > first.count(",")
              else CSVLayout())
    reader = csv.reader(chain([first] if first else [], lines), delimiter=layout.delimiter,
                        strict=True)
    return _numbered(reader), layout


def _text_lines(stream, limit: int) -> Iterator[str]:
    if isinstance(stream.read(0), str):
        return _bounded_text_lines(stream, limit)
    # StringIO(newline="") splits lines as open(..., newline="") does, which csv expects.
    return chain.from_iterable(io.StringIO(text, newline="")
                               for text in _utf8_blocks(stream, limit))


def _bounded_text_lines(stream: TextIO, limit: int) -> Iterator[str]:
    """A text stream's lines, none read further than `limit` characters (+ its line end)."""
    number = 0
    while line := stream.readline(limit + 2):
        number += 1
        if len(line.rstrip("\r\n")) > limit:
            raise _line_too_long(number, limit, header=number == 1)
        yield line


def _utf8_blocks(stream: BinaryIO, limit: int) -> Iterator[str]:
    """Decode in large blocks cut at line ends, so a bad byte can be traced to its line; a
    line longer than `limit` bytes refuses the file before more of it is read."""
    data = stream.read(_READ_BYTES)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ImportRefused(_("The file is UTF-16: save it as UTF-8 (CSV UTF-8) and import it "
                              "again. Nothing was imported."))
    data = data.removeprefix(_UTF8_BOM)
    lines_before = 0
    while data:
        more = stream.read(_READ_BYTES)
        cut = data.rfind(b"\n") + 1 if more else len(data)
        if cut == 0:
            # Old Mac files end lines with a lone CR; a CR at the very end may be half a CRLF.
            cut = data.rfind(b"\r", 0, len(data) - 1) + 1
        if cut == 0:
            _check_line_lengths(data, lines_before, limit)
            data += more  # a line longer than a block (but not than the limit): keep reading
            continue
        chunk, data = data[:cut], data[cut:] + more
        _check_line_lengths(chunk, lines_before, limit)
        yield _decode(chunk, lines_before)
        lines_before += chunk.count(b"\n")


def _check_line_lengths(chunk: bytes, lines_before: int, limit: int) -> None:
    """Refuse the file if a line of `chunk` (which starts a line) is longer than `limit` bytes.

    Cheap on real files: it looks for a stretch of limit/2 bytes without LF, one find() per
    stretch (a line longer than the limit contains such a stretch on the grid; a real file has
    none), and measures the line around one exactly, splitting it at CR too (old Mac files).
    """
    step = max(limit // 2, 1)
    probe = 0
    while probe + step <= len(chunk):
        if chunk.find(b"\n", probe, probe + step) != -1:
            probe += step
            continue
        start = chunk.rfind(b"\n", 0, probe) + 1
        end = chunk.find(b"\n", probe)
        end = len(chunk) if end == -1 else end
        line = chunk[start:end]
        if len(line) > limit and max(map(len, line.split(b"\r"))) > limit:
            # The first line, unless an old Mac file's later line (split at CR) is the long one.
            header = lines_before == start == 0 and len(line.split(b"\r", 1)[0]) > limit
            raise _line_too_long(lines_before + chunk.count(b"\n", 0, start) + 1, limit,
                                 header=header)
        probe = end + 1  # the grid starts again at the next line


def _line_too_long(line: int, limit: int, *, header: bool) -> ImportRefused:
    if header:
        return ImportRefused(
            _("The header line is longer than %(limit)d bytes: it should only name the "
              "columns, at most %(columns)d of them. Nothing was imported.")
            % {"limit": limit, "columns": settings.CRM_IMPORT_MAX_COLUMNS})
    return ImportRefused(
        _("Line %(line)d is longer than %(limit)d bytes, far longer than any row of an import: "
          "the file is probably damaged or not the one meant. Nothing was imported.")
        % {"line": line, "limit": limit})


def _decode(chunk: bytes, lines_before: int) -> str:
    try:
        return chunk.decode("utf-8")
    except UnicodeDecodeError as error:
        line = lines_before + chunk.count(b"\n", 0, error.start) + 1
        raise ImportRefused(
            _("Line %(line)d is not valid UTF-8: the file was probably saved in another "
              "encoding (such as Latin-1 or Windows-1254). Save it as UTF-8 (CSV UTF-8) and "
              "import it again. Nothing was imported.") % {"line": line}
        ) from None


def _numbered(reader) -> Iterator[tuple[int, list[str]]]:
    """(first line of the record, values); malformed CSV refuses the file, naming the line."""
    start = 1
    try:
        for values in reader:
            yield start, values
            start = reader.line_num + 1
    except csv.Error as error:
        raise ImportRefused(
            _("Line %(line)d is not valid CSV (%(error)s); perhaps a quote is not closed. "
              "Nothing was imported.") % {"line": start, "error": error}
        ) from None
    except UnicodeDecodeError:
        raise ImportRefused(
            _("Line %(line)d is not valid UTF-8: save the file as UTF-8 (CSV UTF-8) and "
              "import it again. Nothing was imported.") % {"line": start}
        ) from None


def header_columns(header: list[str], *, required: Sequence[str],
                   allowed: Sequence[str]) -> list[str]:
    """A header line's column names, trimmed and lower-cased; any missing, unknown, unnamed
    or repeated column refuses the file, naming every problem at once (the first few names
    of each kind: the reason stays short whatever the header). Linear in the columns."""
    limit = settings.CRM_IMPORT_MAX_COLUMNS
    if len(header) > limit:
        raise ImportRefused(
            _("The header line has %(count)d columns; at most %(limit)d are allowed, and this "
              "import knows only %(allowed)s. Nothing was imported.")
            % {"count": len(header), "limit": limit, "allowed": ", ".join(allowed)})
    names = [str(name).strip().lower() for name in header]
    if names:
        names[0] = names[0].lstrip("\ufeff").strip()
    problems = []
    present, known = set(names), set(allowed)
    missing = [name for name in required if name not in present]
    if missing:
        problems.append(_("missing required columns: %(names)s") % {"names": ", ".join(missing)})
    unknown = [name for name in names if name and name not in known]
    if unknown:
        problems.append(_("unknown columns: %(names)s") % {"names": _some_names(unknown)})
    if "" in present:
        problems.append(_("column %(number)d has no name") % {"number": names.index("") + 1})
    repeated = sorted(name for name, count in Counter(names).items() if name and count > 1)
    if repeated:
        problems.append(_("repeated columns: %(names)s") % {"names": _some_names(repeated)})
    if problems:
        raise ImportRefused(
            _("The header line is not right (%(problems)s). Allowed columns: %(allowed)s. "
              "Nothing was imported.")
            % {"problems": "; ".join(problems), "allowed": ", ".join(allowed)}
        )
    return names


_NAMES_SHOWN = 10
_NAME_CHARS = 40


def _some_names(names: list[str]) -> str:
    """The first few names, each cut short, and how many more: for a reason people read."""
    shown = [name if len(name) <= _NAME_CHARS else name[:_NAME_CHARS] + "…"
             for name in names[:_NAMES_SHOWN]]
    text = ", ".join(shown)
    if len(names) > _NAMES_SHOWN:
        text += " " + ngettext("and %(count)d more", "and %(count)d more",
                               len(names) - _NAMES_SHOWN) % {"count": len(names) - _NAMES_SHOWN}
    return text


def as_text(value: object) -> str:
    """A cell given by code (None, a number...) as the text a CSV file would hold."""
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


# --- Cells ----------------------------------------------------------------------------------

_DECIMAL_COMMA_AMOUNT = re.compile(r"-?(?:[0-9]{1,3}(?:\.[0-9]{3})+|[0-9]*)(?:,[0-9]+)?")


def from_decimal_comma(text: str, reasons: list[str]) -> str | None:
    """"1.234,50" -> "1234.50" (dots group thousands); anything else is refused clearly."""
    cleaned = text.strip()
    if not cleaned:
        return cleaned  # "Amount is required." from the shared check
    if not _DECIMAL_COMMA_AMOUNT.fullmatch(cleaned) or not cleaned.strip("-"):
        reasons.append(_("Amount %(value)s is not a number: this file separates fields with "
                         "semicolons, so write amounts like 1234,50 or 1.234,50.")
                       % {"value": cleaned[:30]})
        return None
    return cleaned.replace(".", "").replace(",", ".")


# --- The report of rejected rows ------------------------------------------------------------

class ErrorReport:
    """Counts every bad row, keeps the first MAX_ERRORS_KEPT, streams all to errors_file.

    The report quotes the file (emails as written) and is opened in a spreadsheet: written
    formula-safe, so a cell like =HYPERLINK(...) shows as text.
    """

    def __init__(self, errors_file: TextIO | None) -> None:
        self.count = 0
        self.kept: list[RowError] = []
        self.writer = SafeCSVWriter(errors_file) if errors_file is not None else None
        if self.writer:
            self.writer.writerow(["line", "email", "reasons"])

    def add(self, line: int, email: str, reasons: list[str]) -> None:
        self.count += 1
        email = email.strip()[:254]
        if len(self.kept) < MAX_ERRORS_KEPT:
            self.kept.append((line, email, reasons))
        if self.writer:
            self.writer.writerow([line, email, "; ".join(reasons)])
