from django.db import migrations

# Frozen copy of feedback.defaults (TEMPLATE, CAMPAIGN, create_defaults) as it was on
# 2026-12-07: the survey template and campaign this migration creates, whatever
# feedback.defaults or the Campaign model become. Never edit it; a later change to the shipped
# survey is a new migration with its own data.
TEMPLATE = {
    "name": "Satisfaction survey",
    "subject": "{{ contact.first_name|default:'Hello' }}, how did we do?",
    "body_text": (
        "Hello {{ contact.first_name|default:'there' }},\n\n"
        "How likely are you to recommend us to a friend or colleague? "
        "Click a number from 0 (not at all likely) to 10 (extremely likely):\n\n"
        "{% for link in survey.links %}{{ link.score }}: {{ link.url }}\n{% endfor %}\n"
        "The survey is open until {{ survey.closes_on|date:'DATE_FORMAT' }}.\n\n"
        "Don't want these emails? {{ unsubscribe_url }}\n"
    ),
    "body_html": (
        "<p>Hello {{ contact.first_name|default:'there' }},</p>\n"
        "<p>How likely are you to recommend us to a friend or colleague?</p>\n"
        "<table role=\"presentation\"><tr>{% for link in survey.links %}"
        "<td style=\"padding:2px\"><a href=\"{{ link.url }}\" style=\"display:inline-block;"
        "min-width:28px;padding:6px;border:1px solid #888;border-radius:4px;text-align:center;"
        "text-decoration:none\">{{ link.score }}</a></td>{% endfor %}</tr></table>\n"
        "<p><small>0 = not at all likely, 10 = extremely likely. Open until "
        "{{ survey.closes_on|date:'DATE_FORMAT' }}.</small></p>\n"
        "<p><small><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></small></p>\n"
    ),
}

CAMPAIGN = {
    "name": "Satisfaction survey",
    "kind": "custom",
    # An event campaign with no event: campaign_event() and the schedules never start it;
    # only feedback.services.surveys_queue writes its outbox rows.
    "trigger": "event",
    "event": "",
    "holdout_percent": 0,
    "is_active": False,
}


def create(apps, schema_editor):
    EmailTemplate = apps.get_model("campaigns", "EmailTemplate")
    Campaign = apps.get_model("campaigns", "Campaign")
    # Unless they exist (by name).
    template, _created = EmailTemplate.objects.get_or_create(
        name=TEMPLATE["name"], defaults=TEMPLATE)
    values = dict(CAMPAIGN)
    Campaign.objects.get_or_create(name=values.pop("name"),
                                   defaults={**values, "template": template})


class Migration(migrations.Migration):
    dependencies = [("feedback", "0001_initial"), ("campaigns", "0002_default_campaigns")]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
