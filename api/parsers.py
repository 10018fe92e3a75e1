"""JSON bodies read strictly: a size limit, a nesting limit, and nothing the API would have to
guess about or the database would refuse. Each is a 400 before any view code runs.

- Size: DRF reads the request stream itself, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE check,
  so an integration could otherwise post megabytes that are parsed in full.
- Nesting: Python's json module recurses once per level; 64 KB of "[" is a RecursionError
  (a 500). The depth is measured before parsing, without recursion (nesting_exceeds): 13 ms
  for a full 900 KB batch of events, where json.loads itself takes 4 ms.
- Numbers: NaN and Infinity are not JSON, and 1e309 parses to an infinite float.
- Duplicate keys: {"amount": "1", "amount": "100"} would keep whichever came last.
- NUL characters and unpaired surrogates ("\\u0000", "\\ud800") are not text: PostgreSQL
  refuses the first in text and jsonb columns, and neither encodes to UTF-8.
"""
import json
import math
import re

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deepest nesting accepted. Our bodies need 4 (a list of events > event > properties > list).
MAX_DEPTH = 32

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST_PAIR = re.compile(r"\[\]|\{\}")
_NOT_TEXT = re.compile("[\x00\ud800-\udfff]")


class LimitedJSONParser(JSONParser):
    def max_body_bytes(self) -> int:
        return settings.CRM_API_MAX_BODY_BYTES

    def parse(self, stream, media_type=None, parser_context=None):
        limit = self.max_body_bytes()
        body = stream.read(limit + 1) if stream is not None else b""
        if len(body) > limit:
            raise ParseError(_("The request body is larger than %(limit)d bytes.")
                             % {"limit": limit})
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = body.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            raise ParseError(_("The request body is not valid %(encoding)s text.")
                             % {"encoding": encoding}) from None
        return loads_strict(text)


def loads_strict(text: str):
    """json.loads, refusing what the module doc lists with a ParseError."""
    if nesting_exceeds(text, MAX_DEPTH):
        raise ParseError(_("JSON parse error - nested deeper than %(depth)d levels.")
                         % {"depth": MAX_DEPTH})
    try:
        data = json.loads(text, parse_constant=_refuse_constant, parse_float=_finite_float,
                          object_pairs_hook=_object_without_duplicates)
    except _Refused as refused:
        raise ParseError(str(refused)) from None
    except (ValueError, RecursionError) as error:  # JSONDecodeError is a ValueError
        raise ParseError(_("JSON parse error - %(error)s") % {"error": error}) from None
    # Escapes are the only way in for both: raw control characters are a JSON syntax error,
    # and strict UTF-8 decoding refuses encoded surrogates. Most bodies skip the walk.
    if "\\u" in text:
        _refuse_non_text(data, "")
    return data


def nesting_exceeds(text: str, limit: int) -> bool:
    """Whether the JSON text nests arrays/objects deeper than `limit`, found without recursion:
    strings removed, then brackets only, then each pass removes the innermost pairs ("[]",
    "{}"), so a text `limit` levels deep is empty after `limit` passes. Brackets that do not
    pair (not JSON at all) are a ParseError here: json.loads would recurse into them first."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    for _level in range(limit):
        if not brackets:
            return False
        brackets, removed = _INNERMOST_PAIR.subn("", brackets)
        if not removed:
            raise ParseError(_("JSON parse error - the brackets do not pair up."))
    return bool(brackets)


class _Refused(ValueError):
    pass


def _refuse_constant(name: str):
    raise _Refused(_("JSON parse error - %(value)s is not a JSON number.") % {"value": name})


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise _Refused(_("JSON parse error - the number %(value)s is too large.")
                       % {"value": text[:40]})
    return number


def _object_without_duplicates(pairs: list[tuple[str, object]]) -> dict:
    data = dict(pairs)
    if len(data) != len(pairs):
        seen: set[str] = set()
        for key, _value in pairs:
            if key in seen:
                raise _Refused(_("JSON parse error - the key %(key)s is given twice.")
                               % {"key": json.dumps(key)[:80]})
            seen.add(key)
    return data


def _refuse_non_text(value, path: str) -> None:
    if isinstance(value, str):
        _check_text(value, path)
    elif isinstance(value, dict):
        for key, item in value.items():
            inner = f"{path}.{key}" if path else key
            _check_text(key, inner)
            _refuse_non_text(item, inner)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _refuse_non_text(item, f"{path}[{index}]")


def _check_text(text: str, path: str) -> None:
    found = _NOT_TEXT.search(text)
    if found is None:
        return
    where = json.dumps(path or "the body")[:80]
    if found.group() == "\x00":
        raise ParseError(_("%(path)s contains a NUL character (\\u0000), which cannot be "
                           "stored.") % {"path": where})
    raise ParseError(_("%(path)s contains an unpaired surrogate (\\ud800-\\udfff), which is not "
                       "text.") % {"path": where})
