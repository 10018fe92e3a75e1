"""The survey campaign the product ships with (created by migration 0002, inactive until a
manager switches it on). The template's `survey.links` come from feedback.emails."""

from campaigns.defaults import SURVEY_CAMPAIGN_NAME

SURVEY_TEMPLATE_NAME = "Satisfaction survey"

TEMPLATE = {
    "name": SURVEY_TEMPLATE_NAME,
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
    "name": SURVEY_CAMPAIGN_NAME,
    "kind": "custom",
    # An event campaign with no event: campaign_event() and the schedules never start it;
    # only feedback.services.surveys_queue writes its outbox rows.
    "trigger": "event",
    "event": "",
    "holdout_percent": 0,
    "is_active": False,
}


def create_defaults(EmailTemplate, Campaign) -> None:  # noqa: N803 - model classes
    """Create the survey template and campaign unless they exist (by name)."""
    template, _created = EmailTemplate.objects.get_or_create(
        name=TEMPLATE["name"], defaults=TEMPLATE)
    values = dict(CAMPAIGN)
    Campaign.objects.get_or_create(name=values.pop("name"),
                                   defaults={**values, "template": template})
