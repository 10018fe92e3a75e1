import uuid

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

import webhooks.models


class Migration(migrations.Migration):

    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="WebhookEndpoint",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100, verbose_name="name")),
                ("url", models.URLField(max_length=500, validators=[webhooks.models.validate_endpoint_url], verbose_name="URL")),
                ("secret", models.CharField(default=webhooks.models.secret_generate, editable=False, help_text="Give this to the receiving system: it checks the X-CRM-Signature header with it.", max_length=100, verbose_name="signing secret")),
                ("events", models.JSONField(default=list, validators=[webhooks.models.validate_events], verbose_name="events")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created at")),
            ],
            options={
                "verbose_name": "webhook endpoint",
                "verbose_name_plural": "webhook endpoints",
                "ordering": ["name", "id"],
            },
        ),
        migrations.CreateModel(
            name="WebhookDelivery",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("event_type", models.CharField(max_length=40, verbose_name="event")),
                ("event_id", models.UUIDField(default=uuid.uuid4, editable=False, verbose_name="event id")),
                ("contact_id", models.BigIntegerField(blank=True, db_index=True, null=True, verbose_name="contact id")),
                ("payload", models.JSONField(verbose_name="payload")),
                ("status", models.CharField(choices=[("pending", "Pending"), ("delivered", "Delivered"), ("failed", "Failed")], default="pending", max_length=16, verbose_name="status")),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="attempts")),
                ("next_attempt_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="next attempt at")),
                ("last_status_code", models.PositiveIntegerField(blank=True, null=True, verbose_name="last HTTP status")),
                ("last_error", models.CharField(blank=True, max_length=200, verbose_name="last error")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, editable=False, verbose_name="created at")),
                ("delivered_at", models.DateTimeField(blank=True, null=True, verbose_name="delivered at")),
                ("endpoint", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="deliveries", to="webhooks.webhookendpoint", verbose_name="endpoint")),
            ],
            options={
                "verbose_name": "webhook delivery",
                "verbose_name_plural": "webhook deliveries",
                "ordering": ["-created_at", "-id"],
                "constraints": [models.UniqueConstraint(fields=("endpoint", "event_id"), name="webhook_delivery_event_unique")],
                "indexes": [models.Index(fields=["status", "next_attempt_at"], name="webhook_delivery_due_idx")],
            },
        ),
    ]
