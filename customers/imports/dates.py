"""The date order of a purchases file: are 05.12.2026 and 5/12/2026 day-first or month-first?

Chosen on the import form or with --date-order (day-first, month-first), or "auto": day-first
when the shop's language or time zone writes dates so (customers.normalise.shop_day_first),
else as the file itself proves it (a first number > 12 is a day: 25.12.2026). Until a row
proves it, rows with dates that read both ways (05.12.2026) are held back, in a temporary file
(memory stays flat), then checked once the order is known; a file that never tells is refused
as a whole with the question asked, never guessed. A file proving both orders (25.12.2026 on
one line, 12/25/2026 on another) is refused as a whole, naming lines of each.

ISO dates (2026-12-05) take no part: they are passed on at the cost of one slice per row.
"""
import pickle
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import ExitStack

from django.utils.translation import gettext as _

from ..normalise import AMBIGUOUS, AUTO, DAY_FIRST, MONTH_FIRST, date_order_of, shop_day_first
from .reading import ImportRefused

Record = tuple[int, list[str]]

_LINES_NAMED = 3


class DateOrder:
    """Decides a file's date order while its records stream past (see the module doc); the
    row checker reads `order` ("auto" until decided, then day-first or month-first)."""

    def __init__(self, chosen: str = AUTO) -> None:
        if chosen not in (AUTO, DAY_FIRST, MONTH_FIRST):
            raise ImportRefused(_("Unknown date order %(value)s: use auto, day-first or "
                                  "month-first.") % {"value": str(chosen)[:20]})
        self.order = DAY_FIRST if chosen == AUTO and shop_day_first() else chosen
        self.proofs: dict[str, list[tuple[int, str]]] = {DAY_FIRST: [], MONTH_FIRST: []}

    def records(self, records: Iterable[Record], column: int) -> Iterator[Record]:
        """The records, rows held back while the order is unknown released once it is."""
        with ExitStack() as files:
            held = None
            for record in records:
                values = record[1]
                text = values[column] if column < len(values) else ""
                if text[4:5] == "-" or not text:  # ISO (or missing): the common case, untouched
                    yield record
                    continue
                kind = date_order_of(text)
                if kind is None:  # not a day.month.year date: the row check words what is wrong
                    yield record
                elif kind == AMBIGUOUS:
                    if self.order != AUTO:
                        yield record
                        continue
                    if held is None:
                        held = files.enter_context(tempfile.TemporaryFile())
                    pickle.dump(record, held, pickle.HIGHEST_PROTOCOL)
                else:
                    self._proof(kind, record[0], text)
                    yield record
                    if held is not None and self.order != AUTO:
                        yield from _released(held)
                        held = None
            if held is not None:  # the whole file read, and nothing told
                raise ImportRefused(_(
                    "Are dates day-first (05.12.2026 = 5 December) or month-first? Choose on "
                    "the import form or with --date-order. Nothing was imported."))

    def _proof(self, kind: str, line: int, text: str) -> None:
        proofs = self.proofs[kind]
        if len(proofs) < _LINES_NAMED:
            proofs.append((line, text.strip()[:20]))
        other = self.proofs[MONTH_FIRST if kind == DAY_FIRST else DAY_FIRST]
        if other:
            raise ImportRefused(
                _("The file writes dates both day-first (%(day_first)s) and month-first "
                  "(%(month_first)s): write every date the same way. Nothing was imported.")
                % {"day_first": _lines(self.proofs[DAY_FIRST]),
                   "month_first": _lines(self.proofs[MONTH_FIRST])})
        if self.order == AUTO:
            self.order = kind


def _lines(proofs: list[tuple[int, str]]) -> str:
    return ", ".join(_("line %(line)d: %(value)s") % {"line": line, "value": value}
                     for line, value in proofs)


def _released(held) -> Iterator[Record]:
    held.seek(0)
    while True:
        try:
            record = pickle.load(held)
        except EOFError:
            held.truncate(0)
            return
        yield record
