"""Cursor pages ordered by id: each page is an index range scan, as fast at row 1M as at row 1.

The cursor and page_size come from the caller, so both are read strictly: DRF answers a
malformed cursor with a 404, passes a cursor's position ("p=abc", "p=99999999999999999999")
to the database unchecked (a 500), and quietly uses the default for page_size=abc. Here each
is a 400 naming the parameter.
"""
import binascii
from base64 import b64decode
from urllib import parse

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import Cursor, CursorPagination

from .fields import strict_int


class IdCursorPagination(CursorPagination):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    invalid_cursor_message = _("Invalid cursor: use the next or previous link of a page.")

    def get_page_size(self, request) -> int:
        text = request.query_params.get(self.page_size_query_param)
        if not text:  # absent or empty, as DRF reads other empty query parameters
            return self.page_size
        size = strict_int(text)
        if size is None or size < 1:
            raise ValidationError({self.page_size_query_param: [
                _("A whole number of at least 1 is required.")]})
        return min(size, self.max_page_size)

    def decode_cursor(self, request) -> Cursor | None:
        encoded = request.query_params.get(self.cursor_query_param)
        if encoded is None:
            return None
        cursor = _decoded(encoded, offset_cutoff=self.offset_cutoff)
        if cursor is None:
            raise ValidationError({self.cursor_query_param: [self.invalid_cursor_message]})
        return cursor


def _decoded(encoded: str, *, offset_cutoff: int) -> Cursor | None:
    """The cursor that encode_cursor wrote (o=offset, r=1 when reversed, p=an id), or None."""
    try:
        text = b64decode(encoded.encode("ascii"), validate=True).decode("ascii")
        tokens = parse.parse_qs(text, keep_blank_values=True, strict_parsing=True)
    except (ValueError, binascii.Error):  # UnicodeError is a ValueError
        return None
    if set(tokens) - {"o", "r", "p"} or any(len(values) != 1 for values in tokens.values()):
        return None
    offset = strict_int(tokens.get("o", ["0"])[0])
    reverse = tokens.get("r", ["0"])[0]
    position = tokens["p"][0] if "p" in tokens else None
    if offset is None or not 0 <= offset <= offset_cutoff or reverse not in ("0", "1"):
        return None
    if position is not None and (strict_int(position) or 0) < 1:  # positions are ids
        return None
    return Cursor(offset=offset, reverse=reverse == "1", position=position)
