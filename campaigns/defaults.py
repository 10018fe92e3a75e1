"""The campaigns the product ships with, ready to switch on (inactive until a manager does).

Migration 0002 created them from a frozen copy (campaigns/migrations/_frozen_0002.py): a change
here reaches databases only through a new migration (0011 added "Time to reorder"). The texts are English starting points
that managers edit.

The shipped journeys (campaigns with steps: second purchase, post-purchase review, win-back,
first-purchase anniversary), switched off, with Turkish translations of their templates, are
migration 0015's own frozen data (campaigns/migrations/_frozen_0015.py; docs/journeys.md).
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
        Campaign.objects.get_or_create(name=values.pop("name"), defaults=values)
