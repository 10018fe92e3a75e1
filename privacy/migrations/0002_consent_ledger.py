# The consent ledger: ConsentWording (the exact texts, per language and version) and
# ConsentRecord (append-only), with version 1 of the English and Turkish wordings.
import datetime as dt

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


# Frozen copy of privacy.wordings (version 1 of each wording) as it was on 2026-12-07. Never
# edit it: people have agreed to these texts; a new text is a new version (the admin), and
# post_migrate (privacy/apps.py) seeds from privacy.wordings where a database has none.
INITIAL_VERSION = "1"
INITIAL_PUBLISHED_AT = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
INITIAL_WORDINGS = {
    ("marketing_email", "en"): (
        "I give my explicit consent to receive commercial electronic messages by email "
        "(offers, discounts and news) and to the processing of my name and email address for "
        "this purpose. I know that I can withdraw this consent at any time, free of charge and "
        "without giving a reason, with the unsubscribe link in every email."
    ),
    ("marketing_email", "tr"): (
        "6698 sayılı Kişisel Verilerin Korunması Kanunu ve 6563 sayılı Elektronik Ticaretin "
        "Düzenlenmesi Hakkında Kanun kapsamında; kampanya, indirim ve yeniliklerle ilgili ticari "
        "elektronik iletilerin e-posta yoluyla tarafıma gönderilmesine ve bu amaçla adımın, "
        "soyadımın ve e-posta adresimin işlenmesine açık rıza veriyorum. Bu onayı dilediğim "
        "zaman, her e-postadaki abonelikten çıkma bağlantısıyla ücretsiz ve gerekçe "
        "göstermeksizin geri alabileceğimi biliyorum."
    ),
}


def seed_wordings(apps, schema_editor):
    """Create version 1 for each (purpose, language) that has no wording yet."""
    ConsentWording = apps.get_model("privacy", "ConsentWording")
    for (purpose, language), text in INITIAL_WORDINGS.items():
        if not ConsentWording.objects.filter(purpose=purpose, language=language).exists():
            ConsentWording.objects.create(purpose=purpose, language=language,
                                          version=INITIAL_VERSION, text=text,
                                          published_at=INITIAL_PUBLISHED_AT)


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0001_initial"),
        ("customers", "0008_contact_updated_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ConsentWording",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("purpose", models.CharField(choices=[("marketing_email", "Marketing email")], default="marketing_email", max_length=32, verbose_name="purpose")),
                ("language", models.CharField(choices=[("en", "English"), ("tr", "Turkish")], max_length=8, verbose_name="language")),
                ("version", models.CharField(help_text="A short label, e.g. 2026-12 or 2.", max_length=32, verbose_name="version")),
                ("text", models.TextField(help_text="The exact wording shown to the person.", verbose_name="text")),
                ("published_at", models.DateTimeField(default=django.utils.timezone.now, help_text="From this time on, the latest published version is the current one.", verbose_name="published at")),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="created by")),
            ],
            options={
                "verbose_name": "consent wording",
                "verbose_name_plural": "consent wordings",
                "ordering": ["purpose", "language", "-published_at", "-id"],
                "constraints": [models.UniqueConstraint(fields=("purpose", "language", "version"), name="consent_wording_version_unique")],
            },
        ),
        migrations.CreateModel(
            name="ConsentRecord",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("given", models.BooleanField(verbose_name="consent given")),
                ("purpose", models.CharField(choices=[("marketing_email", "Marketing email")], default="marketing_email", max_length=32, verbose_name="purpose")),
                ("occurred_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="when")),
                ("recorded_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="recorded at")),
                ("method", models.CharField(choices=[("staff_form", "In person, recorded by staff"), ("api", "API"), ("csv_import", "CSV import"), ("public_form", "Form on the website or at checkout"), ("unsubscribe_link", "Unsubscribe link"), ("one_click", "One-click unsubscribe (mail client)"), ("request", "Request by email, phone or support"), ("erasure", "Erasure of personal data")], max_length=32, verbose_name="how")),
                ("source", models.CharField(blank=True, help_text="E.g. the shop's name or the campaign.", max_length=64, verbose_name="source")),
                ("language", models.CharField(blank=True, max_length=8, verbose_name="language")),
                ("evidence", models.CharField(blank=True, help_text="E.g. checkbox on the checkout page, order 1234.", max_length=200, verbose_name="evidence")),
                ("contact", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="consent_records", to="customers.contact", verbose_name="contact")),
                ("recorded_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL, verbose_name="recorded by")),
                ("wording", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name="records", to="privacy.consentwording", verbose_name="wording")),
            ],
            options={
                "verbose_name": "consent record",
                "verbose_name_plural": "consent records",
                "ordering": ["-occurred_at", "-id"],
                "default_permissions": ("view",),
                "indexes": [models.Index(fields=["contact", "occurred_at"], name="consent_contact_time_idx")],
                "constraints": [models.CheckConstraint(condition=models.Q(("given", False), ("wording__isnull", False), _connector="OR"), name="consent_given_has_wording")],
            },
        ),
        migrations.RunPython(seed_wordings, migrations.RunPython.noop),
    ]
