from django.conf import settings
from django.db import migrations

from ._schedules import Schedule, register as register_schedules

# What this migration adds, frozen here: a later change of crm.schedules.DEFAULT_SCHEDULES must
# not change what an applied migration did.
SCHEDULES = [
    Schedule("Shops: process waiting webhook deliveries", "shops.sweep_deliveries",
             every_minutes=1),
    Schedule("Shops: poll stores for missed orders", "shops.poll_stores", every_minutes=60),
]


def register(apps, schema_editor):
    register_schedules(apps, SCHEDULES, time_zone=settings.TIME_ZONE)


class Migration(migrations.Migration):
    dependencies = [
        ("crm", "0012_bought_product_schedules"),
    ]

    operations = [migrations.RunPython(register, migrations.RunPython.noop)]
