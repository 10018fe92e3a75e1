# "After a website action" event campaigns (activity.WebsiteEvent kinds).
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0004_email_template_translations"),
    ]

    operations = [
        migrations.AlterField(
            model_name="campaign",
            name="event",
            field=models.CharField(blank=True, choices=[("first_purchase", "First purchase"), ("became_repeat", "Became a repeat client"), ("nth_purchase", "Reached the Nth purchase"), ("fell_at_risk", "Fell at risk"), ("website_event", "After a website action")], max_length=16, verbose_name="event"),
        ),
        migrations.AddField(
            model_name="campaign",
            name="event_kind",
            field=models.CharField(blank=True, choices=[("viewed_product", "Viewed a product"), ("added_to_cart", "Added to cart"), ("abandoned_cart", "Abandoned a cart"), ("started_checkout", "Started checkout"), ("signed_up_newsletter", "Signed up for the newsletter"), ("viewed_page", "Viewed a page"), ("searched", "Searched"), ("custom", "Custom action")], help_text="For 'After a website action': which action, such as an abandoned cart.", max_length=24, verbose_name="website action"),
        ),
    ]
