from django.db import migrations

from feedback.defaults import create_defaults


def create(apps, schema_editor):
    create_defaults(apps.get_model("campaigns", "EmailTemplate"),
                    apps.get_model("campaigns", "Campaign"))


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("campaigns", "0002_default_campaigns")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
