import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("customers", "0001_initial"),
    ]

    operations = [
        migrations.CreateModel(
            name="WebsiteEvent",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("kind", models.CharField(choices=[("viewed_product", "Viewed a product"), ("added_to_cart", "Added to cart"), ("abandoned_cart", "Abandoned a cart"), ("started_checkout", "Started checkout"), ("signed_up_newsletter", "Signed up for the newsletter"), ("viewed_page", "Viewed a page"), ("searched", "Searched"), ("custom", "Custom action")], max_length=24, verbose_name="kind")),
                ("name", models.CharField(blank=True, help_text="A short label: the product's name, the page, the search words, or the name of a custom action.", max_length=200, verbose_name="name")),
                ("properties", models.JSONField(blank=True, default=dict, verbose_name="properties")),
                ("occurred_at", models.DateTimeField(verbose_name="occurred at")),
                ("received_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="received at")),
                ("source", models.CharField(default="api", help_text="Where the event came from, such as the shop's name.", max_length=32, verbose_name="source")),
                ("external_id", models.CharField(blank=True, help_text="The event's id in the source system; unique per source, so a retry is recorded once.", max_length=128, null=True, verbose_name="external id")),
                ("contact", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="website_events", to="customers.contact", verbose_name="contact")),
            ],
            options={
                "verbose_name": "website event",
                "verbose_name_plural": "website events",
                "ordering": ["-occurred_at", "-id"],
                "indexes": [
                    models.Index(fields=["contact", "occurred_at"], name="websiteevent_contact_time_idx"),
                    models.Index(fields=["kind", "occurred_at"], name="websiteevent_kind_time_idx"),
                ],
                "constraints": [
                    models.UniqueConstraint(condition=models.Q(("external_id__isnull", False)), fields=("source", "external_id"), name="websiteevent_source_external_id_unique"),
                ],
            },
        ),
    ]
