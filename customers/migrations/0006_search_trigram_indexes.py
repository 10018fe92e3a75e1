"""Trigram indexes for the contact search (PostgreSQL only; SQLite scans, fine for its sizes).

Django's icontains becomes UPPER(column::text) LIKE UPPER('%word%') on PostgreSQL, so the
indexes are on that expression. pg_trgm is a trusted extension (PostgreSQL 13+): the
database owner may create it without superuser rights.
"""
from django.db import migrations

COLUMNS = ("email", "first_name", "last_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm ON customers_contact "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_{column}_trgm")


class Migration(migrations.Migration):
    dependencies = [("customers", "0005_kpi_snapshots")]

    operations = [migrations.RunPython(create, drop)]
