from django.db import migrations

from ._frozen_0002 import create_defaults


def create(apps, schema_editor):
    # Adds the campaigns this release ships (by name); existing ones and managers' edits stay.
    # Frozen: the same list as 0002 (see _frozen_0002.py).
    create_defaults(apps.get_model("campaigns", "EmailTemplate"),
                    apps.get_model("campaigns", "Campaign"))


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0002_default_campaigns")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
