from django.conf import settings
from django.db import migrations

from crm.schedules import register_default_schedules


def register(apps, schema_editor):
    register_default_schedules(apps, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
