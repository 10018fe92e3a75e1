"""bench_import's #17 baseline: a table with the purchases table's indexes and constraints."""
import pytest
from django.db import connection

from bench.bench_import import indexed_copy_ddl
from customers.models import Purchase

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def indexes_and_checks(table: str) -> tuple[list[bool], int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indisunique FROM pg_index WHERE indrelid = %s::regclass "
                       "ORDER BY indisunique", [table])
        unique = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT COUNT(*) FROM pg_constraint WHERE conrelid = %s::regclass "
                       "AND contype = 'c'", [table])
        return unique, cursor.fetchone()[0]


def test_the_baseline_table_has_as_many_indexes_and_checks_as_the_purchases_table():
    with connection.cursor() as cursor:
        cursor.execute(indexed_copy_ddl())

    # A new index or check on purchases must be mirrored in INDEXED_COPY_DDL (the aim's
    # "table with the purchases table's indexes").
    assert indexes_and_checks("bench_indexed_copy") == indexes_and_checks(
        Purchase._meta.db_table)
