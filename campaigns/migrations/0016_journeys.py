"""Journeys: the "first-purchase anniversary" event, and the shipped journeys (switched off)
with their templates in English and Turkish (frozen: _frozen_0016.py)."""
from django.conf import settings
from django.db import migrations, models

from ._frozen_0016 import create_journeys


def create(apps, schema_editor):
    offered = {code for code, _name in settings.LANGUAGES}
    create_journeys(apps.get_model("campaigns", "EmailTemplate"),
                    apps.get_model("campaigns", "EmailTemplateTranslation"),
                    apps.get_model("campaigns", "Campaign"),
                    apps.get_model("campaigns", "JourneyStep"),
                    turkish="tr" in offered and settings.LANGUAGE_CODE != "tr")


class Migration(migrations.Migration):

    dependencies = [
        ('campaigns', '0015_lead_message_complained_at'),
    ]

    operations = [
        migrations.AlterField(
            model_name='campaign',
            name='event',
            field=models.CharField(blank=True, choices=[('first_purchase', 'First purchase'), ('became_repeat', 'Became a repeat client'), ('nth_purchase', 'Reached the Nth purchase'), ('fell_at_risk', 'Fell at risk'), ('website_event', 'After a website action'), ('reorder_due', 'Time to reorder a product'), ('anniversary', 'First-purchase anniversary')], max_length=16, verbose_name='event'),
        ),
        migrations.RunPython(create, migrations.RunPython.noop),
    ]
