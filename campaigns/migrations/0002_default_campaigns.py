from django.db import migrations

from campaigns.defaults import create_defaults


def create(apps, schema_editor):
    create_defaults(apps.get_model("campaigns", "EmailTemplate"),
                    apps.get_model("campaigns", "Campaign"))


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0001_initial")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
