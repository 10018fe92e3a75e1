from django.conf import settings
from django.db import migrations

from crm.schedules import register_default_schedules


def register(apps, schema_editor):
    # Adds the schedules this release brings (webhooks.send_due, customers.import_purge);
    # existing ones stay.
    register_default_schedules(apps, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0005_feedback_schedules"),
    ]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
