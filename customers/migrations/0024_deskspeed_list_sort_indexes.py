"""Indexes for the contact list's sort orders at 1M contacts (#19 "Speed"): purchases, the
likelihood (the score index gains the contact as tie-break, replacing the one without it) and
the name order, one index per reader language's collation (PostgreSQL with ICU only; SQLite
sorts its small tables)."""
from django.conf import settings
from django.db import migrations, models

# Frozen copy of customers.search.POSTGRES_COLLATIONS on 2026-12-07: the list's name order
# uses the index only while its COLLATE matches the query's, so a new language or collation
# there needs a new migration.
NAME_COLLATIONS = {"tr": "tr-x-icu", "und": "und-x-icu"}


def create_name_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for key, collation in NAME_COLLATIONS.items():
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_collation WHERE collname = %s", [collation])
            if cursor.fetchone() is None:
                continue  # a server without ICU sorts names by byte order, unindexed
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS contact_name_{key}_idx ON customers_contact "
            f'((last_name COLLATE "{collation}"), (first_name COLLATE "{collation}"), id)')


def drop_name_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for key in NAME_COLLATIONS:
        schema_editor.execute(f"DROP INDEX IF EXISTS contact_name_{key}_idx")


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0023_lines_products_purchase_lines'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='contactscore',
            name='score_run_probability_idx',
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(models.OrderBy(models.F('purchase_count'), descending=True), models.OrderBy(models.F('id'), descending=True), name='contact_purchases_idx'),
        ),
        migrations.AddIndex(
            model_name='contactscore',
            index=models.Index(fields=['run', '-p_buy_again', '-contact'], name='score_run_prob_contact_idx'),
        ),
        migrations.RunPython(create_name_indexes, drop_name_indexes),
    ]
