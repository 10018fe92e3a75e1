from django.db import migrations, models
from django.db.models import F
from django.db.models.functions import Coalesce


def backfill(apps, schema_editor):
    # Rows that failed before this field: their last claim is when their last attempt was made
    # (the result is recorded right after it), so they fall in the right day of the digest.
    Message = apps.get_model("campaigns", "Message")
    Message.objects.filter(status="failed", failed_at__isnull=True).update(
        failed_at=Coalesce(F("claimed_at"), F("created_at")))


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0006_suppression_email_normalised'),
    ]

    operations = [
        migrations.AddField(
            model_name='message',
            name='failed_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='failed at'),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
