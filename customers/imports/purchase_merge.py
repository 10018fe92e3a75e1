"""The purchase import's merge: staged rows into contacts and purchases with a few set-based
statements (one way for SQLite, a faster one for PostgreSQL), then, once per import, what a
purchase recorded one at a time causes (codes, stage changes, scores, events)."""
import datetime as dt

from django.db import IntegrityError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext as _

from crm.tasks import queue_after_commit

from .. import hooks
from ..hooks import stage_watchers
from ..models import Contact, Purchase
from ..stats import contacts_refresh_stats
from ..tasks import purchases_imported_task
from .reading import ImportRefused

# The time the merge stamps on rows, as the database adapter takes it (text on SQLite).
DatabaseTime = dt.datetime | str

# One row per email in the input: the line it first appears on and the first non-blank names.
_CONTACTS_SQL = """
    CREATE TEMPORARY TABLE crm_import_contacts AS
    SELECT e.email, e.first_line, COALESCE(f.first_name, '') AS first_name,
           COALESCE(l.last_name, '') AS last_name{extra}
    FROM (SELECT email, MIN(line) AS first_line,
                 MIN(CASE WHEN first_name <> '' THEN line END) AS first_name_line,
                 MIN(CASE WHEN last_name <> '' THEN line END) AS last_name_line
          FROM crm_import_staging GROUP BY email) e
    LEFT JOIN crm_import_staging f ON f.line = e.first_name_line
    LEFT JOIN crm_import_staging l ON l.line = e.last_name_line
    {more}"""

# Fill blank names of contacts that existed before the import; never overwrite a name.
_FILL_NAMES_SQL = """
    UPDATE {contact} SET
        first_name = CASE WHEN {contact}.first_name = '' THEN n.first_name
                          ELSE {contact}.first_name END,
        last_name = CASE WHEN {contact}.last_name = '' THEN n.last_name
                         ELSE {contact}.last_name END,
        updated_at = %s
    FROM crm_import_contacts n
    WHERE {match}
      AND (({contact}.first_name = '' AND n.first_name <> '')
           OR ({contact}.last_name = '' AND n.last_name <> ''))"""

# Rows sharing a (source, external_id) by now are exact duplicates of one order: ordered by
# external_id, then line, the first line wins. The order by key also means two imports
# running at once wait for each other's rows in the same order, so they cannot deadlock.
_INSERT_PURCHASES_SQL = """
    INSERT INTO {purchase} (contact_id, purchased_at, purchased_on, amount, currency,
                            amount_base, quantity, channel, channel_label, source, external_id,
                            code, created_at, recorded_by_id)
    SELECT {contact_id}, s.purchased_at, s.purchased_on, s.amount, s.currency, s.amount_base,
           s.quantity, s.channel, s.channel_label, %s, s.external_id, s.code, %s, %s
    FROM crm_import_staging s JOIN {join}
    WHERE true
    ORDER BY s.external_id, s.line
    ON CONFLICT (source, external_id) WHERE external_id IS NOT NULL DO NOTHING"""


# PostgreSQL's first try (merge_postgres): the same rows as _INSERT_PURCHASES_SQL, chosen
# before inserting instead of by ON CONFLICT's speculative insertion (a quarter of an insert's
# cost): the staged orders not recorded yet, the first line of each (source, external_id).
# A plain INSERT still waits for, and then fails on, a key another transaction inserts
# meanwhile; the merge then runs _INSERT_PURCHASES_SQL instead (_plain_else_on_conflict).
_INSERT_NEW_PURCHASES_SQL = """
    INSERT INTO {purchase} (contact_id, purchased_at, purchased_on, amount, currency,
                            amount_base, quantity, channel, channel_label, source, external_id,
                            code, created_at, recorded_by_id)
    SELECT DISTINCT ON (s.external_id)
           {contact_id}, s.purchased_at, s.purchased_on, s.amount, s.currency, s.amount_base,
           s.quantity, s.channel, s.channel_label, %s, s.external_id, s.code, %s, %s
    FROM crm_import_staging s JOIN {join}
    WHERE NOT EXISTS (SELECT 1 FROM {purchase} p
                      WHERE p.source = %s AND p.external_id = s.external_id)
    ORDER BY s.external_id, s.line"""


def _plain_else_on_conflict(cursor, plain: tuple[str, list], on_conflict: tuple[str, list]) -> int:
    """Run the plain INSERT in a savepoint; if another transaction committed one of its unique
    keys meanwhile (a unique violation), roll it back and run the ON CONFLICT one instead.
    Both insert the same rows when nobody writes the same keys meanwhile. Returns rowcount."""
    try:
        with transaction.atomic():
            cursor.execute(*plain)
            return cursor.rowcount
    except IntegrityError as error:
        cause = error.__cause__
        if (getattr(cause, "pgcode", None) or getattr(cause, "sqlstate", None)) != "23505":
            raise
    cursor.execute(*on_conflict)
    return cursor.rowcount


def _tables() -> dict[str, str]:
    return {"contact": Contact._meta.db_table, "purchase": Purchase._meta.db_table}


def _refresh_stats(sql: str, *, announce: bool) -> None:
    """customers.stats refresh for the contact ids `sql` selects, in chunks, streamed."""
    with connection.chunked_cursor() as reader:
        reader.execute(sql)
        while rows := reader.fetchmany(2000):
            contacts_refresh_stats([row[0] for row in rows], announce=announce)


def merge_sqlite(cursor: CursorWrapper, source: str, now: DatabaseTime, *, announce: bool,
                 recorded_by_id: int | None) -> tuple[int, int]:
    """The plain way: contacts, purchases, then customers.stats for every affected contact.

    SQLite has one writer at a time (the transaction holds the write lock), so nothing
    changes under the import and no row locks are needed.
    """
    tables = _tables()
    cursor.execute(_CONTACTS_SQL.format(extra="", more=""))
    cursor.execute(f"""
        INSERT INTO {tables['contact']} (email, first_name, last_name, phone, marketing_consent,
            consent_source, created_at, updated_at, purchase_count, total_spent)
        SELECT n.email, n.first_name, n.last_name, '', false, '', %s, %s, 0, 0
        FROM crm_import_contacts n
        WHERE NOT EXISTS (SELECT 1 FROM {tables['contact']} c WHERE c.email = n.email)
        ORDER BY n.first_line""", [now, now])
    contacts_created = cursor.rowcount
    cursor.execute(_FILL_NAMES_SQL.format(
        match=f"n.email = {tables['contact']}.email", **tables), [now])
    cursor.execute(f"""
        CREATE TEMPORARY TABLE crm_import_affected AS
        SELECT DISTINCT c.id AS contact_id, c.purchase_count AS count_before
        FROM crm_import_staging s JOIN {tables['contact']} c ON c.email = s.email
        WHERE NOT EXISTS (SELECT 1 FROM {tables['purchase']} p
                          WHERE p.source = %s AND p.external_id = s.external_id)""", [source])
    cursor.execute(_INSERT_PURCHASES_SQL.format(
        contact_id="c.id", join=f"{tables['contact']} c ON c.email = s.email", **tables),
        [source, now, recorded_by_id])
    purchases_created = cursor.rowcount
    # The new purchases carrying a code, for the codes hook (after_merge): SQLite answers
    # IN (subquery) from a temporary index of the subquery, so this is one pass.
    cursor.execute(f"""
        CREATE TEMPORARY TABLE crm_import_coded AS
        SELECT p.id AS purchase_id FROM {tables['purchase']} p
        WHERE p.source = %s AND p.created_at = %s AND p.code <> ''
          AND p.external_id IN (SELECT external_id FROM crm_import_staging WHERE code <> '')""",
                   [source, now])
    _refresh_stats("SELECT contact_id FROM crm_import_affected ORDER BY contact_id",
                   announce=announce)
    return contacts_created, purchases_created


def merge_postgres(cursor: CursorWrapper, source: str, now: DatabaseTime, *, announce: bool,
                   recorded_by_id: int | None) -> tuple[int, int]:
    """Purchases first, then the new contacts with their figures already computed.

    Existing contacts are locked (ordered by id, as customers.services does) before their
    purchases go in and are refreshed by customers.stats afterwards. New contacts get ids from
    the sequence up front; their purchases are inserted first (the foreign key is checked at
    commit) and the contacts are then inserted once with figures aggregated from exactly the
    purchases inserted, which saves updating every new row again.
    """
    tables = _tables()
    # JIT-compiling each refresh chunk costs more than running it; sorts of a million staged
    # rows fit in memory. (The staged rows were analysed once staged: Staging.analyze.)
    cursor.execute("SET LOCAL jit = off")
    cursor.execute("SET LOCAL work_mem = '256MB'")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
    cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [tables["contact"]])
    sequence = cursor.fetchone()[0]
    cursor.execute(_CONTACTS_SQL.format(
        extra=", c.id AS existing_id, COALESCE(c.purchase_count, 0) AS count_before, "
              "CASE WHEN c.id IS NULL THEN nextval(%s::regclass) ELSE c.id END AS id",
        more=f"LEFT JOIN {tables['contact']} c ON c.email = e.email ORDER BY e.first_line"),
        [sequence])
    _lock_existing(cursor, tables)
    cursor.execute(_FILL_NAMES_SQL.format(match=f"n.existing_id = {tables['contact']}.id",
                                          **tables), [now])
    join = {"contact_id": "n.id", "join": "crm_import_contacts n ON n.email = s.email", **tables}
    cursor.execute("""
        CREATE TEMPORARY TABLE crm_import_affected (
            contact_id bigint PRIMARY KEY, purchases integer, days integer,
            first_at timestamptz, last_at timestamptz, total numeric)""")
    # The new purchases carrying a code, for the codes hook (after_merge), noted as they go
    # in: finding them afterwards would join the purchases table, whose statistics do not
    # know yet about the rows just inserted (a nested loop over a million rows).
    cursor.execute("CREATE TEMPORARY TABLE crm_import_coded (purchase_id bigint PRIMARY KEY)")
    noted = """
        WITH inserted AS ({insert}
            RETURNING id, contact_id, purchased_on, purchased_at, amount_base, code),
        coded AS (INSERT INTO crm_import_coded SELECT id FROM inserted WHERE code <> '')
        INSERT INTO crm_import_affected
        SELECT contact_id, COUNT(*), COUNT(DISTINCT purchased_on), MIN(purchased_at),
               MAX(purchased_at), SUM(amount_base)
        FROM inserted GROUP BY contact_id"""
    _plain_else_on_conflict(
        cursor,
        (noted.format(insert=_INSERT_NEW_PURCHASES_SQL.format(**join)),
         [source, now, recorded_by_id, source]),
        (noted.format(insert=_INSERT_PURCHASES_SQL.format(**join)),
         [source, now, recorded_by_id]))
    cursor.execute("SELECT COALESCE(SUM(purchases), 0) FROM crm_import_affected")
    purchases_created = int(cursor.fetchone()[0])
    contacts_created = _insert_new_contacts(cursor, tables, now)
    _announce_new_contacts(announce=announce)
    _refresh_stats("SELECT DISTINCT n.existing_id FROM crm_import_contacts n "
                   "JOIN crm_import_affected a ON a.contact_id = n.id "
                   "WHERE n.existing_id IS NOT NULL ORDER BY n.existing_id", announce=announce)
    return contacts_created, purchases_created


def _announce_new_contacts(*, announce: bool) -> None:
    """contact.stage_changed for the contacts this import created (prospect -> buyer), as
    the other writers emit it; nothing is read unless a webhook subscribes."""
    watcher = stage_watchers(announce=announce)
    if not watcher.watching:
        return
    with connection.chunked_cursor() as reader:
        reader.execute("SELECT id FROM crm_import_contacts WHERE existing_id IS NULL "
                       "ORDER BY id")
        while rows := reader.fetchmany(2000):
            watcher.created([row[0] for row in rows])


def _lock_existing(cursor, tables: dict) -> None:
    """Lock the contacts that existed before the import, in id order, as services does."""
    cursor.execute(f"""
        SELECT COUNT(*) FROM (
            SELECT c.id FROM {tables['contact']} c
            JOIN crm_import_contacts n ON n.existing_id = c.id AND n.email = c.email
            ORDER BY c.id FOR UPDATE OF c) locked""")
    locked = cursor.fetchone()[0]
    cursor.execute("SELECT COUNT(*) FROM crm_import_contacts WHERE existing_id IS NOT NULL")
    if locked != cursor.fetchone()[0]:
        # Rows re-read after waiting for a lock: one was deleted or its email changed.
        raise ImportRefused(_("Some contacts in the file were changed or deleted while it was "
                              "being imported. Nothing was imported; import the file again."))


def _insert_new_contacts(cursor, tables: dict, now) -> int:
    # Plain first (nobody else created one of these emails meanwhile: the common case), then
    # with ON CONFLICT, adopting the contacts created meanwhile (_plain_else_on_conflict).
    insert = f"""
        INSERT INTO {tables['contact']} (id, email, first_name, last_name, phone,
            marketing_consent, consent_source, created_at, updated_at, purchase_count,
            first_purchase_at, last_purchase_at, total_spent)
        SELECT n.id, n.email, n.first_name, n.last_name, '', false, '', %s, %s,
               COALESCE(a.days, 0), a.first_at, a.last_at, COALESCE(a.total, 0)
        FROM crm_import_contacts n LEFT JOIN crm_import_affected a ON a.contact_id = n.id
        WHERE n.existing_id IS NULL
        ORDER BY n.email  -- the unique key's order: concurrent imports cannot deadlock"""
    created = _plain_else_on_conflict(cursor, (insert, [now, now]),
                                      (insert + "\n        ON CONFLICT (email) DO NOTHING",
                                       [now, now]))
    cursor.execute("SELECT COUNT(*) FROM crm_import_contacts WHERE existing_id IS NULL")
    if created != cursor.fetchone()[0]:
        _adopt_concurrent_contacts(cursor, tables, now)
    return created


def _adopt_concurrent_contacts(cursor, tables: dict, now) -> None:
    """Someone else created a contact for one of our new emails meanwhile: use theirs."""
    cursor.execute(f"""
        SELECT n.id, c.id FROM crm_import_contacts n
        JOIN {tables['contact']} c ON c.email = n.email
        WHERE n.existing_id IS NULL AND c.id <> n.id
        ORDER BY c.id FOR UPDATE OF c""")
    for ours, theirs in cursor.fetchall():
        cursor.execute(f"UPDATE {tables['purchase']} SET contact_id = %s WHERE contact_id = %s",
                       [theirs, ours])
        cursor.execute("UPDATE crm_import_contacts SET existing_id = %s WHERE id = %s",
                       [theirs, ours])
    cursor.execute(_FILL_NAMES_SQL.format(match=f"n.existing_id = {tables['contact']}.id",
                                          **tables), [now])


# --- After the merge: codes, scores, events ------------------------------------------------

# Contacts given new purchases, with their purchase count before the import (what the events
# compare against). Contacts of the PostgreSQL merge are inserted with their figures, so
# their count before is that of the matched contact (0 for a new one).
_AFFECTED_SQL = {
    False: "SELECT contact_id, count_before FROM crm_import_affected ORDER BY contact_id",
    True: "SELECT COALESCE(n.existing_id, n.id), n.count_before FROM crm_import_affected a "
          "JOIN crm_import_contacts n ON n.id = a.contact_id ORDER BY 1",
}
# Contacts per follow-up task: one task re-scores them in one pass of the fitted models.
FOLLOW_UP_CHUNK = 1000


def after_merge(*, postgres: bool, historical: bool) -> None:
    """What a purchase recorded one at a time causes, for the whole import at once.

    1. hooks.purchases_imported, inside this transaction, with the new purchases carrying a
       code (their ids in crm_import_coded, noted by the merge): campaigns runs a few
       statements over them (campaigns/imported_codes.py).
    2. After commit, one task per FOLLOW_UP_CHUNK contacts (customers.purchases_imported):
       re-score from the last fitted models, then hooks.purchases_committed (purchase events)
       unless historical. Reading the affected ids is one streamed query.
    A dry run rolls back, and with it the queued tasks (on_commit never fires).
    """
    if postgres:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE crm_import_coded")  # temp tables are never auto-analysed
    with_code = Purchase.objects.filter(
        pk__in=RawSQL("SELECT purchase_id FROM crm_import_coded", []))
    hooks.purchases_imported.call(hooks.ImportedPurchases(with_code=with_code,
                                                          historical=historical))
    consequence = ("the nightly run re-scores them" if historical else
                   "the nightly run re-scores them; their purchase events are missed")
    with connection.chunked_cursor() as reader:
        reader.execute(_AFFECTED_SQL[postgres])
        while rows := reader.fetchmany(FOLLOW_UP_CHUNK):
            queue_after_commit(purchases_imported_task,
                               [[contact_id, count or 0] for contact_id, count in rows],
                               historical, consequence=consequence)
