"""Trigram indexes on the Turkish-folded names and email (customers.search), replacing the
plain UPPER() ones of 0006. PostgreSQL only; SQLite scans, fine for its sizes."""
from django.db import migrations

from customers.search import postgres_fold_sql

COLUMNS = ("email", "first_name", "last_name")


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_{column}_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_fold_trgm ON customers_contact "
            f"USING gin (({postgres_fold_sql(column)}) gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for column in COLUMNS:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_{column}_fold_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_{column}_trgm ON customers_contact "
            f"USING gin ((UPPER({column}::text)) gin_trgm_ops)")


class Migration(migrations.Migration):
    dependencies = [("customers", "0010_import_jobs")]

    operations = [migrations.RunPython(create, drop)]
