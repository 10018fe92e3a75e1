from django.conf import settings
from django.db import migrations

from ._schedules import SCHEDULES_2026_12_07, register as register_schedules


def register(apps, schema_editor):
    # Adds the schedules this release brings; existing ones (and managers' edits) stay.
    # Frozen: the whole default list as it stood on 2026-12-07 (see _schedules.py).
    register_schedules(apps, SCHEDULES_2026_12_07, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [("crm", "0003_scoring_schedule")]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
