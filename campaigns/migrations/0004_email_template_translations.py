import django.db.models.deletion
from django.db import migrations, models

from ._frozen_0004 import create_translations


def create(apps, schema_editor):
    # Turkish for the shipped templates (0002, 0003 and feedback's survey), if still as shipped.
    # Frozen: the translations as of 2026-12-07 (see _frozen_0004.py).
    create_translations(apps.get_model("campaigns", "EmailTemplate"),
                        apps.get_model("campaigns", "EmailTemplateTranslation"))


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0003_promoter_referral"),
        # The survey template this migration translates is created there.
        ("feedback", "0002_survey_campaign"),
    ]

    operations = [
        migrations.CreateModel(
            name="EmailTemplateTranslation",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("language", models.CharField(choices=[("en", "English"), ("tr", "Turkish")],
                                              max_length=8, verbose_name="language")),
                ("subject", models.CharField(max_length=200, verbose_name="subject")),
                ("body_text", models.TextField(verbose_name="plain text")),
                ("body_html", models.TextField(blank=True, verbose_name="HTML")),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated at")),
                ("template", models.ForeignKey(
                    db_index=False, on_delete=django.db.models.deletion.CASCADE,
                    related_name="translations", to="campaigns.emailtemplate",
                    verbose_name="template")),
            ],
            options={
                "verbose_name": "translation",
                "verbose_name_plural": "translations",
                "ordering": ["language"],
                "constraints": [models.UniqueConstraint(
                    fields=("template", "language"), name="email_template_translation_unique")],
            },
        ),
        migrations.RunPython(create, migrations.RunPython.noop),
    ]
