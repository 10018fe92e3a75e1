"""KpiSnapshot moved to the dashboard app (issue #16): gone from customers' state only; its
table (customers_kpisnapshot) stays and dashboard 0001 takes it over."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0015_scoringrun_started_by_user'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='KpiSnapshot')],
            database_operations=[],
        ),
    ]
