from django.conf import settings
from django.db import migrations

from ._schedules import Schedule, register as register_schedules

# What this migration adds, frozen here: a later change of crm.schedules.DEFAULT_SCHEDULES must
# not change what an applied migration did.
SCHEDULES = [
    Schedule("Campaign journeys: next steps", "campaigns.journeys_advance", every_minutes=1),
    Schedule("Campaign events: first-purchase anniversaries", "campaigns.journey_anniversaries",
             crontab=("45", "6")),
]


def register(apps, schema_editor):
    register_schedules(apps, SCHEDULES, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0014_variants_schedule"),
    ]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
