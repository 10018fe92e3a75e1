"""Trigram indexes on the Turkish-folded names and email (customers.search), replacing the
plain UPPER() ones of 0006. PostgreSQL only; SQLite scans, fine for its sizes."""
from django.db import migrations

COLUMNS = ("email", "first_name", "last_name")


def postgres_fold_sql(column: str) -> str:
    # Frozen copy of customers.search.postgres_fold_sql as it was on 2026-12-07: this migration
    # builds these indexes, whatever that function becomes. The planner uses an index only when
    # the query's expression matches it character for character, so a change of the fold in
    # customers.search needs a new migration that rebuilds the indexes.
    return (f"UPPER(TRANSLATE(({column})::text, "
            "'İıŞşĞğÇçÖöÜüÂâÎîÛû', 'iissggccoouuaaiiuu'))")


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
