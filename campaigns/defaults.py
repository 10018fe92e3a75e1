"""The campaigns the product ships with, ready to switch on (inactive until a manager does).

Migration 0002 created them from a frozen copy (campaigns/migrations/_frozen_0002.py): a change
here reaches databases only through a new migration (0011 added "Time to reorder"). The texts are English starting points
that managers edit.

The shipped journeys (campaigns with steps: second purchase, post-purchase review, win-back,
first-purchase anniversary), switched off, with Turkish translations of their templates, are
migration 0016's own frozen data (campaigns/migrations/_frozen_0016.py; docs/journeys.md).
"""

# The satisfaction-survey campaign, which feedback ships (feedback.defaults) and fills
# (feedback.services.surveys_queue). campaigns knows it by this (unique) name: only its rows
# carry survey links, and nobody starts it by hand (campaigns.template_needs).
SURVEY_CAMPAIGN_NAME = "Satisfaction survey"

TEMPLATES = [
    {
        "name": "Second order coupon",
        "subject": "{{ contact.first_name|default:'Hello' }}, a little thank-you for your next order",
        "body_text": (
            "Hello {{ contact.first_name|default:'there' }},\n\n"
            "Thank you for shopping with us. Here is {% if coupon.kind == 'percent' %}"
            "{{ coupon.value|floatformat:0 }}% off{% else %}{{ coupon.value }} off{% endif %} "
            "your next order with the code {{ coupon.code }}, valid until "
            "{{ coupon.expires_at|date:'DATE_FORMAT' }}.\n\n"
            "See you soon!\n\n"
            "Don't want these emails? {{ unsubscribe_url }}\n"
        ),
    },
    {
        "name": "Thank you, loyal client",
        "subject": "Thank you, {{ contact.first_name|default:'friend' }}: this one is on us",
        "body_text": (
            "Hello {{ contact.first_name|default:'there' }},\n\n"
            "You have come back to us again and again, and we noticed. As a thank-you, here is "
            "the code {{ coupon.code }} for {{ coupon.value }} off, valid until "
            "{{ coupon.expires_at|date:'DATE_FORMAT' }}.\n\n"
            "Don't want these emails? {{ unsubscribe_url }}\n"
        ),
    },
    {
        "name": "We miss you",
        "subject": "{{ contact.first_name|default:'Hello' }}, we have missed you",
        "body_text": (
            "Hello {{ contact.first_name|default:'there' }},\n\n"
            "It has been a while{% if last_purchase %} since your order of "
            "{{ last_purchase.purchased_at|date:'DATE_FORMAT' }}{% endif %}. Come back for "
            "{{ coupon.value|floatformat:0 }}% off with the code {{ coupon.code }} (valid until "
            "{{ coupon.expires_at|date:'DATE_FORMAT' }}).\n\n"
            "Don't want these emails? {{ unsubscribe_url }}\n"
        ),
    },
    {
        "name": "Tell a friend",
        "subject": "Share the love, {{ contact.first_name|default:'friend' }}",
        "body_text": (
            "Hello {{ contact.first_name|default:'there' }},\n\n"
            "Know someone who would like us too? Give them your personal code "
            "{{ referral_code }}: they get a discount on their first order, and you get a "
            "reward coupon as soon as they buy.\n\n"
            "Don't want these emails? {{ unsubscribe_url }}\n"
        ),
    },
]

# What was bought (customers.bought): the product to reorder, the contact's usual products and
# what others bought with them (campaigns.rendering; names are escaped in HTML like any value).
_PRODUCT_LIST = ("{{ product.name }}{% if not forloop.last %}, {% endif %}{% endfor %}.")
TEMPLATES.append({
    "name": "Time to reorder",
    "subject": "{{ contact.first_name|default:'Hello' }}, time for more "
               "{{ reorder_product.name }}?",
    "body_text": (
        "Hello {{ contact.first_name|default:'there' }},\n\n"
        "Your {{ reorder_product.name }} may be running low: it has been about as long as "
        "usual since you last ordered it.{% if usual_products %} Your favourites: "
        "{% for product in usual_products %}" + _PRODUCT_LIST + "{% endif %}"
        "{% if also_bought %}\n\nOthers who buy the same also like: "
        "{% for product in also_bought %}" + _PRODUCT_LIST + "{% endif %}\n\n"
        "See you soon!\n\n"
        "Don't want these emails? {{ unsubscribe_url }}\n"
    ),
})

CAMPAIGNS = [
    {
        "name": "Convert one-time buyers", "kind": "convert", "template": "Second order coupon",
        "trigger": "schedule",
        # A good but uncertain chance: the likely ones come back anyway, the unlikely won't.
        "audience": {"stages": ["one_time"], "p_buy_again_min": 0.2, "p_buy_again_max": 0.6},
        "coupon_kind": "percent", "coupon_value": "10", "coupon_valid_days": 30,
    },
    {
        "name": "Thank repeat clients on their 5th purchase", "kind": "thank",
        "template": "Thank you, loyal client", "trigger": "event", "event": "nth_purchase",
        "event_purchase_number": 5, "audience": {"stages": ["repeat"]},
        "coupon_kind": "amount", "coupon_value": "10", "coupon_valid_days": 60,
    },
    {
        "name": "Win back lapsing clients", "kind": "win_back", "template": "We miss you",
        "trigger": "schedule",
        "audience": {"stages": ["repeat"], "p_alive_max": 0.5, "days_since_last_min": 60},
        "coupon_kind": "percent", "coupon_value": "15", "coupon_valid_days": 30,
    },
    {
        # Satisfied customers (9-10 in their latest survey) are the ones to ask.
        "name": "Ask promoters for a referral", "kind": "referral",
        "template": "Tell a friend", "trigger": "schedule",
        "audience": {"nps_promoter": True},
    },
    {
        "name": "Ask new repeat clients for a referral", "kind": "referral",
        "template": "Tell a friend", "trigger": "event", "event": "became_repeat",
        "delay_days": 3, "audience": {"stages": ["repeat"]},
    },
    {
        # Daily: whoever's usual interval for a product has passed (campaigns.reorder).
        "name": "Remind clients to reorder", "kind": "custom", "template": "Time to reorder",
        "trigger": "event", "event": "reorder_due", "audience": {},
    },
]


def create_defaults(EmailTemplate, Campaign) -> None:  # noqa: N803 - model classes
    """Create the shipped templates and campaigns that are not there yet (by name)."""
    for data in TEMPLATES:
        EmailTemplate.objects.get_or_create(name=data["name"], defaults=data)
    for data in CAMPAIGNS:
        values = dict(data)
        values["template"] = EmailTemplate.objects.get(name=values["template"])
        campaign, created = Campaign.objects.get_or_create(name=values.pop("name"),
                                                           defaults=values)
        if created and campaign.name in JOURNEY_STEPS:
            _steps_create(Campaign, campaign, EmailTemplate)


def _steps_create(Campaign, campaign, EmailTemplate) -> None:  # noqa: N803 - model classes
    step_model = Campaign._meta.get_field("steps").related_model
    for position, (kind, template, wait_days, condition, negate) in enumerate(
            JOURNEY_STEPS[campaign.name], 1):
        step_model.objects.create(
            campaign=campaign, position=position, kind=kind, wait_days=wait_days,
            template=EmailTemplate.objects.get(name=template) if template else None,
            condition=condition, negate=negate)


# --- Journeys ---------------------------------------------------------------------------------
# Campaigns with steps (campaigns.journeys, docs/journeys.md), shipped switched off by migration
# 0016 from its frozen copy (campaigns/migrations/_frozen_0016.py), Turkish in
# feedback.defaults_tr. create_defaults gives them their steps (JOURNEY_STEPS).

_J_UNSUBSCRIBE = "\n\nDon't want these emails? {{ unsubscribe_url }}\n"
_J_OFF = ("{% if coupon.kind == 'percent' %}{{ coupon.value|floatformat:0 }}% off"
          "{% else %}{{ coupon.value }} {{ coupon.currency }} off{% endif %}")
_J_HELLO = "Hello {{ contact.first_name|default:'there' }},\n\n"
_J_UNTIL = "{{ coupon.expires_at|date:'DATE_FORMAT' }}"

JOURNEY_TEMPLATES = [
    {
        "name": "Journey: thank you for your first order",
        "subject": "Thank you for your first order, {{ contact.first_name|default:'friend' }}",
        "body_text": _J_HELLO + "Thank you for choosing us for your first order. We hope you "
                     "enjoy it; if anything is not right, just reply to this email and we will "
                     "sort it out." + _J_UNSUBSCRIBE,
    },
    {
        "name": "Journey: a coupon for your second order",
        "subject": "{{ contact.first_name|default:'Hello' }}, a little something for your "
                   "next order",
        "body_text": _J_HELLO + "Here is " + _J_OFF + " your next order with the code "
                     "{{ coupon.code }}, valid until " + _J_UNTIL + ".\n\nSee you soon!"
                     + _J_UNSUBSCRIBE,
    },
    {
        "name": "Journey: your coupon expires soon",
        "subject": "Your coupon expires on " + _J_UNTIL,
        "body_text": _J_HELLO + "A reminder: your code {{ coupon.code }} for " + _J_OFF
                     + " is still waiting for you, until " + _J_UNTIL + "." + _J_UNSUBSCRIBE,
    },
    {
        # A reply, not the survey's score links: only the survey campaign's rows carry them.
        "name": "Journey: how was your order?",
        "subject": "{{ contact.first_name|default:'Hello' }}, how was your order?",
        "body_text": _J_HELLO + "You have had your order for a little while now: how do you "
                     "like it? On a scale from 0 to 10, how likely are you to recommend us to "
                     "a friend? Just reply to this email with a number and a few words; we read "
                     "every answer." + _J_UNSUBSCRIBE,
    },
    {
        "name": "Journey: we miss you",
        "subject": "{{ contact.first_name|default:'Hello' }}, we have missed you",
        "body_text": _J_HELLO + "It has been a while{% if last_purchase %} since your order of "
                     "{{ last_purchase.purchased_at|date:'DATE_FORMAT' }}{% endif %}. Come back "
                     "for " + _J_OFF + " with the code {{ coupon.code }}, valid until "
                     + _J_UNTIL + "." + _J_UNSUBSCRIBE,
    },
    {
        "name": "Journey: last chance to come back",
        "subject": "Last reminder: your coupon expires on " + _J_UNTIL,
        "body_text": _J_HELLO + "This is our last reminder: your code {{ coupon.code }} for "
                     + _J_OFF + " ends on " + _J_UNTIL + ". We would love to see you again."
                     + _J_UNSUBSCRIBE,
    },
    {
        "name": "Journey: happy anniversary",
        "subject": "{{ contact.first_name|default:'Hello' }}, it has been a year already!",
        "body_text": _J_HELLO + "On this day you placed your first order with us. Thank you for "
                     "the time since! To celebrate, here is " + _J_OFF + " with the code "
                     "{{ coupon.code }}, valid until " + _J_UNTIL + "." + _J_UNSUBSCRIBE,
    },
]
TEMPLATES.extend(JOURNEY_TEMPLATES)

JOURNEYS = [
    {
        # The coupon (valid 14 days) on day 7, the reminder on day 13, before it expires.
        "name": "Journey: second purchase", "kind": "convert",
        "template": "Journey: thank you for your first order", "trigger": "event",
        "event": "first_purchase", "audience": {"stages": ["one_time"]},
        "coupon_kind": "percent", "coupon_value": "10", "coupon_valid_days": 14,
    },
    {
        "name": "Journey: post-purchase review", "kind": "custom",
        "template": "Journey: how was your order?", "trigger": "event",
        "event": "first_purchase", "audience": {},
    },
    {
        "name": "Journey: win-back", "kind": "win_back", "template": "Journey: we miss you",
        "trigger": "event", "event": "fell_at_risk", "audience": {"stages": ["repeat"]},
        "coupon_kind": "percent", "coupon_value": "15", "coupon_valid_days": 21,
    },
    {
        "name": "Journey: first-purchase anniversary", "kind": "thank",
        "template": "Journey: happy anniversary", "trigger": "event", "event": "anniversary",
        "audience": {}, "coupon_kind": "percent", "coupon_value": "10",
        "coupon_valid_days": 30,
    },
]
CAMPAIGNS.extend(JOURNEYS)

# Each journey's steps: (kind, template name or "", wait_days, condition, negate).
JOURNEY_STEPS = {
    "Journey: second purchase": [
        ("email", "Journey: thank you for your first order", 0, "", False),
        ("wait", "", 7, "", False),
        ("email", "Journey: a coupon for your second order", 0, "", False),
        ("wait", "", 6, "", False),
        ("condition", "", 0, "coupon_used", True),
        ("email", "Journey: your coupon expires soon", 0, "", False),
    ],
    "Journey: post-purchase review": [
        ("wait", "", 10, "", False),
        ("email", "Journey: how was your order?", 0, "", False),
    ],
    "Journey: win-back": [
        ("email", "Journey: we miss you", 0, "", False),
        ("wait", "", 14, "", False),
        ("condition", "", 0, "coupon_used", True),
        ("email", "Journey: last chance to come back", 0, "", False),
    ],
    "Journey: first-purchase anniversary": [
        ("email", "Journey: happy anniversary", 0, "", False),
    ],
}
