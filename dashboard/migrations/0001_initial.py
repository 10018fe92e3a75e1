"""KpiSnapshot, moved from customers (issue #16): created in the state only, on the table
customers 0005 made (kept by db_table). Its content type is renamed so its permissions keep
their rows (and the groups that hold them)."""
import django.utils.timezone
from django.db import migrations, models


def _content_type_to_dashboard(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if ContentType.objects.filter(app_label='dashboard', model='kpisnapshot').exists():
        return
    ContentType.objects.filter(app_label='customers', model='kpisnapshot').update(
        app_label='dashboard')


def _content_type_to_customers(apps, schema_editor):
    ContentType = apps.get_model('contenttypes', 'ContentType')
    if ContentType.objects.filter(app_label='customers', model='kpisnapshot').exists():
        return
    ContentType.objects.filter(app_label='dashboard', model='kpisnapshot').update(
        app_label='customers')


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        ('customers', '0016_kpisnapshot_moved_to_dashboard'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='KpiSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('computed_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='computed at')),
                        ('seconds', models.FloatField(default=0, verbose_name='seconds to compute')),
                        ('data', models.JSONField(default=dict, verbose_name='figures')),
                    ],
                    options={
                        'verbose_name': 'KPI snapshot',
                        'verbose_name_plural': 'KPI snapshots',
                        'db_table': 'customers_kpisnapshot',
                        'ordering': ['-computed_at', '-id'],
                        'get_latest_by': 'computed_at',
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(_content_type_to_dashboard, _content_type_to_customers),
    ]
