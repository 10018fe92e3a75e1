"""Exchange rates per currency per day, with their source; purchases may wait for one.

Today's rows (one manual rate per currency) are kept as manual rates valid from the first day
a purchase may carry (1970-01-01), so every purchase converted before still finds its rate.
A purchase whose rate is not known yet is stored with amount_base NULL (provisional).
"""
import datetime as dt

import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0017_consent_ledger_moved"),
    ]

    operations = [
        migrations.CreateModel(
            name="RateFetch",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                           verbose_name="ID")),
                ("feed", models.CharField(choices=[
                    ("manual", "Manual"),
                    ("tcmb", "Central Bank of the Republic of Türkiye (TCMB)"),
                    ("ecb", "European Central Bank (ECB)")], max_length=8, verbose_name="feed")),
                ("fetched_at", models.DateTimeField(default=django.utils.timezone.now,
                                                    verbose_name="fetched at")),
                ("outcome", models.CharField(choices=[
                    ("saved", "Rates saved"), ("late", "Rates saved; the feed is late"),
                    ("failed", "Failed; the previous rates are kept")], max_length=8,
                    verbose_name="outcome")),
                ("feed_day", models.DateField(blank=True, null=True, verbose_name="feed's day")),
                ("rates_saved", models.PositiveIntegerField(default=0,
                                                            verbose_name="rates saved")),
                ("purchases_converted", models.PositiveIntegerField(
                    default=0, verbose_name="purchases converted")),
                ("message", models.TextField(blank=True, verbose_name="message")),
            ],
            options={
                "verbose_name": "exchange-rate fetch",
                "verbose_name_plural": "exchange-rate fetches",
                "ordering": ["-fetched_at", "-id"],
            },
        ),
        migrations.AlterModelOptions(
            name="currencyrate",
            options={"ordering": ["currency", "-day"], "verbose_name": "currency rate",
                     "verbose_name_plural": "currency rates"},
        ),
        # Existing rows: manual rates valid from the start.
        migrations.AddField(
            model_name="currencyrate",
            name="day",
            field=models.DateField(blank=True, default=dt.date(1970, 1, 1),
                                   help_text="The day the rate was published or set for; a "
                                             "manual rate holds from this day until a newer "
                                             "rate of its currency.",
                                   verbose_name="valid from"),
        ),
        migrations.AddField(
            model_name="currencyrate",
            name="source",
            field=models.CharField(choices=[
                ("manual", "Manual"),
                ("tcmb", "Central Bank of the Republic of Türkiye (TCMB)"),
                ("ecb", "European Central Bank (ECB)")], default="manual", max_length=8,
                verbose_name="source"),
        ),
        migrations.AlterField(
            model_name="currencyrate",
            name="currency",
            field=models.CharField(max_length=3, verbose_name="currency"),
        ),
        migrations.AlterField(
            model_name="currencyrate",
            name="rate",
            field=models.DecimalField(decimal_places=12, max_digits=24,
                                      verbose_name="rate to base currency"),
        ),
        migrations.AlterField(
            model_name="purchase",
            name="amount_base",
            field=models.DecimalField(decimal_places=3, editable=False, max_digits=18,
                                      null=True, verbose_name="amount in base currency"),
        ),
        migrations.AddIndex(
            model_name="purchase",
            index=models.Index(condition=models.Q(("amount_base__isnull", True)),
                               fields=["currency", "purchased_on"],
                               name="purchase_waiting_rate_idx"),
        ),
        migrations.AddConstraint(
            model_name="currencyrate",
            constraint=models.UniqueConstraint(fields=("currency", "day"),
                                               name="currency_rate_one_a_day"),
        ),
    ]
