from django.db import migrations, models
from django.db.models import Exists, OuterRef


def label_existing(apps, schema_editor):
    """Pauses stored before reasons: one with a survey answer is an unhappy answer's; one
    without is a "not interested" call's when the contact has such a call, else a manager's."""
    PromotionPause = apps.get_model("feedback", "PromotionPause")
    CallLog = apps.get_model("customers", "CallLog")
    without_answer = PromotionPause.objects.filter(response__isnull=True)
    called = CallLog.objects.filter(contact=OuterRef("contact"), outcome="not_interested")
    without_answer.filter(Exists(called)).update(reason="not_interested")
    without_answer.filter(~Exists(called)).update(reason="manager")


class Migration(migrations.Migration):

    dependencies = [
        ("feedback", "0002_survey_campaign"),
        ("customers", "0021_calls_calllog"),
    ]

    operations = [
        migrations.AddField(
            model_name="promotionpause",
            name="reason",
            field=models.CharField(choices=[("unhappy_answer", "Unhappy survey answer"), ("not_interested", "Not interested (call)"), ("manager", "Paused by a manager")], default="unhappy_answer", max_length=16, verbose_name="reason"),
        ),
        migrations.RunPython(label_existing, migrations.RunPython.noop),
    ]
