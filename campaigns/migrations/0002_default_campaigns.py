from django.db import migrations

from ._frozen_0002 import create_defaults


def create(apps, schema_editor):
    # Frozen: the shipped templates and campaigns as of 2026-12-07 (see _frozen_0002.py).
    create_defaults(apps.get_model("campaigns", "EmailTemplate"),
                    apps.get_model("campaigns", "Campaign"))


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
