from django.conf import settings
from django.db import migrations

from ._schedules import SCHEDULES_2026_12_07, register as register_schedules


def register(apps, schema_editor):
    # Frozen: the whole default list as it stood on 2026-12-07 (see _schedules.py).
    register_schedules(apps, SCHEDULES_2026_12_07, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
