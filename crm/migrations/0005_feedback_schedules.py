from django.conf import settings
from django.db import migrations

from crm.schedules import register_default_schedules


def register(apps, schema_editor):
    # Adds the schedules this release brings; existing ones (and managers' edits) stay.
    register_default_schedules(apps, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [("crm", "0004_sending_and_dashboard_schedules")]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
