from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0008_contact_updated_index"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="language",
            field=models.CharField(
                blank=True, default="", db_default="",
                choices=[("en", "English"), ("tr", "Turkish")],
                help_text="For emails and public pages; empty means the shop's default language.",
                max_length=8, verbose_name="language"),
        ),
    ]
