"""Contact search and name order that follow the way people in Turkey write names.

Plain case-insensitive matching fails Turkish in both directions: PostgreSQL's UPPER('istanbul')
is 'ISTANBUL' but UPPER('İstanbul') is 'İSTANBUL', and SQLite folds ASCII letters only. People
also type without Turkish letters on foreign keyboards ("sahin" for "Şahin"). So both the column
and the search word are folded the same way: the Turkish letters to their plain Latin base
(İ ı → i, Ş ş → s, Ğ ğ → g, Ç ç → c, Ö ö → o, Ü ü → u, Â Î Û → a i u), then upper-cased.
"İstanbul", "istanbul", "ISTANBUL" and "Istanbul" all fold to "ISTANBUL".

PostgreSQL computes the fold with TRANSLATE + UPPER (immutable, so migration 0011 indexes the
expression with trigrams); SQLite calls the Python function registered on each connection.

Name order follows the reader's language: in Turkish "Çelik" comes between "Cem" and "Demir"
and "Işık" before "İnce" (ICU's "tr" collation on PostgreSQL); in English names sort by the
Unicode root collation, capitals mixed in, not after "Z" as byte order puts them. SQLite (the
development default) gets the same orders from Python collations registered per connection.
"""
import functools
import unicodedata

from django.db import connection as default_connection
from django.db import models
from django.db.models.functions import Collate
from django.utils import translation
from django.db.backends.signals import connection_created
from django.dispatch import receiver

FOLD_FROM = "İıŞşĞğÇçÖöÜüÂâÎîÛû"
FOLD_TO = "iissggccoouuaaiiuu"
_TABLE = str.maketrans(FOLD_FROM, FOLD_TO)
SQLITE_FUNCTION = "crm_search_fold"


def fold(text: str) -> str:
    """The form both sides of a search are compared in."""
    return (text or "").translate(_TABLE).upper()


def postgres_fold_sql(column_sql: str) -> str:
    """The exact expression the trigram indexes are built on (they must match character for
    character for the planner to use them)."""
    return f"UPPER(TRANSLATE(({column_sql})::text, '{FOLD_FROM}', '{FOLD_TO}'))"


class SearchFold(models.Func):
    """fold() of a text column, inside the database."""

    function = SQLITE_FUNCTION
    arity = 1
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        column_sql, params = compiler.compile(self.source_expressions[0])
        return postgres_fold_sql(column_sql), params


# Turkish alphabet (with q, w, x for foreign names); anything else sorts after, by code point.
TURKISH_ALPHABET = "abcçdefgğhıijklmnoöpqrsştuüvwxyz"
_TURKISH_RANK = {letter: rank for rank, letter in enumerate(TURKISH_ALPHABET)}
_TURKISH_LOWER = str.maketrans("Iİ", "ıi")
POSTGRES_COLLATIONS = {"tr": "tr-x-icu", "": "und-x-icu"}
SQLITE_COLLATIONS = {"tr": "crm_tr", "": "crm_root"}


def turkish_sort_key(text: str) -> tuple:
    """Letters by the Turkish alphabet, case second, then the text itself (a total order)."""
    lowered = text.translate(_TURKISH_LOWER).lower()
    return (tuple(_TURKISH_RANK.get(char, 100 + ord(char)) for char in lowered),
            text.swapcase(), text)


def root_sort_key(text: str) -> tuple:
    """Letters by their base letter (ç with c, ı with i), then accents, case, the text."""
    folded = text.translate(_TABLE).casefold()
    base = "".join(char for char in unicodedata.normalize("NFKD", folded)
                   if not unicodedata.combining(char))
    return (base, folded, text.swapcase(), text)


def name_collation(vendor: str | None = None, language: str | None = None) -> str | None:
    """The collation names are ordered with for `language` (default: the active one)."""
    vendor = vendor or default_connection.vendor
    language = (language or translation.get_language() or "").split("-")[0]
    collations = {"postgresql": POSTGRES_COLLATIONS, "sqlite": SQLITE_COLLATIONS}.get(vendor)
    if collations is None:
        return None
    name = collations.get(language, collations[""])
    if vendor == "postgresql" and not _postgres_has_collation(name):
        return None  # a server built without ICU: byte order, as before
    return name


@functools.cache
def _postgres_has_collation(name: str) -> bool:
    with default_connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [name])
        return cursor.fetchone() is not None


def collated(field: str) -> models.Expression:
    """`field` in the order readers of the active language expect."""
    collation = name_collation()
    return Collate(models.F(field), collation) if collation else models.F(field)


def _compare(key):
    def compare(left: str, right: str) -> int:
        left_key, right_key = key(left), key(right)
        return (left_key > right_key) - (left_key < right_key)
    return compare


@receiver(connection_created)
def _register_sqlite_functions(sender, connection, **kwargs) -> None:
    if connection.vendor != "sqlite":
        return
    connection.connection.create_function(SQLITE_FUNCTION, 1, _sqlite_fold, deterministic=True)
    connection.connection.create_collation(SQLITE_COLLATIONS["tr"], _compare(turkish_sort_key))
    connection.connection.create_collation(SQLITE_COLLATIONS[""], _compare(root_sort_key))


def _sqlite_fold(value):
    return None if value is None else fold(str(value))
