"""Frozen data of migration 0015: the shipped journeys (switched off), their email templates
and the templates' Turkish translations. Never edit this file, and import it from nothing but
that migration.

A copy of what campaigns.defaults documents, as it was on 2026-12-07. Nothing is overwritten:
a template or campaign of the same name is left as it is (and a campaign that exists gets no
steps), and a Turkish translation is added only to a template created here, where Turkish is
offered and not the default language.
"""

_UNSUBSCRIBE = "\n\nDon't want these emails? {{ unsubscribe_url }}\n"
_UNSUBSCRIBE_TR = "\n\nBu e-postaları almak istemiyor musunuz? {{ unsubscribe_url }}\n"
_OFF = ("{% if coupon.kind == 'percent' %}{{ coupon.value|floatformat:0 }}% off"
        "{% else %}{{ coupon.value }} {{ coupon.currency }} off{% endif %}")
_OFF_TR = ("{% if coupon.kind == 'percent' %}%{{ coupon.value|floatformat:0 }} indirim"
           "{% else %}{{ coupon.value }} {{ coupon.currency }} indirim{% endif %}")
_HELLO = "Hello {{ contact.first_name|default:'there' }},\n\n"
_HELLO_TR = "Merhaba{% if contact.first_name %} {{ contact.first_name }}{% endif %},\n\n"
_UNTIL = "{{ coupon.expires_at|date:'DATE_FORMAT' }}"

# (template, Turkish translation)
TEMPLATES = [
    ({"name": "Journey: thank you for your first order",
      "subject": "Thank you for your first order, {{ contact.first_name|default:'friend' }}",
      "body_text": _HELLO + "Thank you for choosing us for your first order. We hope you "
                   "enjoy it; if anything is not right, just reply to this email and we will "
                   "sort it out." + _UNSUBSCRIBE},
     {"subject": "İlk siparişiniz için teşekkürler{% if contact.first_name %}, "
                 "{{ contact.first_name }}{% endif %}",
      "body_text": _HELLO_TR + "İlk siparişiniz için bizi seçtiğiniz için teşekkür ederiz. "
                   "Umarız beğenirsiniz; bir sorun olursa bu e-postayı yanıtlamanız yeterli, "
                   "hemen ilgileniriz." + _UNSUBSCRIBE_TR}),
    ({"name": "Journey: a coupon for your second order",
      "subject": "{{ contact.first_name|default:'Hello' }}, a little something for your "
                 "next order",
      "body_text": _HELLO + "Here is " + _OFF + " your next order with the code "
                   "{{ coupon.code }}, valid until " + _UNTIL + ".\n\nSee you soon!"
                   + _UNSUBSCRIBE},
     {"subject": "{{ contact.first_name|default:'Merhaba' }}, bir sonraki siparişiniz için "
                 "küçük bir hediye",
      "body_text": _HELLO_TR + "Bir sonraki siparişinizde {{ coupon.code }} koduyla " + _OFF_TR
                   + " sizi bekliyor; kod " + _UNTIL + " tarihine kadar geçerli.\n\n"
                   "Yakında görüşmek üzere!" + _UNSUBSCRIBE_TR}),
    ({"name": "Journey: your coupon expires soon",
      "subject": "Your coupon expires on " + _UNTIL,
      "body_text": _HELLO + "A reminder: your code {{ coupon.code }} for " + _OFF
                   + " is still waiting for you, until " + _UNTIL + "." + _UNSUBSCRIBE},
     {"subject": "Kuponunuzun süresi " + _UNTIL + " tarihinde doluyor",
      "body_text": _HELLO_TR + "Küçük bir hatırlatma: " + _OFF_TR + " sağlayan "
                   "{{ coupon.code }} kodunuz " + _UNTIL + " tarihine kadar sizi bekliyor."
                   + _UNSUBSCRIBE_TR}),
    ({"name": "Journey: how was your order?",
      "subject": "{{ contact.first_name|default:'Hello' }}, how was your order?",
      "body_text": _HELLO + "You have had your order for a little while now: how do you like "
                   "it? On a scale from 0 to 10, how likely are you to recommend us to a "
                   "friend? Just reply to this email with a number and a few words; we read "
                   "every answer." + _UNSUBSCRIBE},
     {"subject": "{{ contact.first_name|default:'Merhaba' }}, siparişiniz nasıldı?",
      "body_text": _HELLO_TR + "Siparişiniz bir süredir elinizde: nasıl buldunuz? 0 ile 10 "
                   "arasında, bizi bir arkadaşınıza önerme olasılığınız nedir? Bu e-postayı "
                   "bir sayı ve birkaç kelimeyle yanıtlamanız yeterli; her yanıtı okuyoruz."
                   + _UNSUBSCRIBE_TR}),
    ({"name": "Journey: we miss you",
      "subject": "{{ contact.first_name|default:'Hello' }}, we have missed you",
      "body_text": _HELLO + "It has been a while{% if last_purchase %} since your order of "
                   "{{ last_purchase.purchased_at|date:'DATE_FORMAT' }}{% endif %}. Come back "
                   "for " + _OFF + " with the code {{ coupon.code }}, valid until " + _UNTIL
                   + "." + _UNSUBSCRIBE},
     {"subject": "{{ contact.first_name|default:'Merhaba' }}, sizi özledik",
      "body_text": _HELLO_TR + "Uzun zamandır görüşemedik{% if last_purchase %} (son "
                   "siparişiniz: {{ last_purchase.purchased_at|date:'DATE_FORMAT' }})"
                   "{% endif %}. {{ coupon.code }} koduyla " + _OFF_TR + " sizi bekliyor; kod "
                   + _UNTIL + " tarihine kadar geçerli." + _UNSUBSCRIBE_TR}),
    ({"name": "Journey: last chance to come back",
      "subject": "Last reminder: your coupon expires on " + _UNTIL,
      "body_text": _HELLO + "This is our last reminder: your code {{ coupon.code }} for "
                   + _OFF + " ends on " + _UNTIL + ". We would love to see you again."
                   + _UNSUBSCRIBE},
     {"subject": "Son hatırlatma: kuponunuzun süresi " + _UNTIL
                 + " tarihinde doluyor",
      "body_text": _HELLO_TR + "Bu son hatırlatmamız: " + _OFF_TR + " sağlayan "
                   "{{ coupon.code }} kodunuz " + _UNTIL + " tarihinde sona eriyor. Sizi yeniden "
                   "görmeyi çok isteriz." + _UNSUBSCRIBE_TR}),
    ({"name": "Journey: happy anniversary",
      "subject": "{{ contact.first_name|default:'Hello' }}, it has been a year already!",
      "body_text": _HELLO + "On this day you placed your first order with us. Thank you for "
                   "the time since! To celebrate, here is " + _OFF + " with the code "
                   "{{ coupon.code }}, valid until " + _UNTIL + "." + _UNSUBSCRIBE},
     {"subject": "{{ contact.first_name|default:'Merhaba' }}, bir yıl oldu bile!",
      "body_text": _HELLO_TR + "Bugün bize ilk siparişinizi verdiğiniz gün. O günden beri "
                   "bizimle olduğunuz için teşekkürler! Kutlamak için {{ coupon.code }} "
                   "koduyla " + _OFF_TR + " sizi bekliyor; kod " + _UNTIL + " tarihine kadar "
                   "geçerli." + _UNSUBSCRIBE_TR}),
]

# Steps: (kind, template name or "", wait_days, condition, negate)
JOURNEYS = [
    {"name": "Journey: second purchase", "kind": "convert",
     "template": "Journey: thank you for your first order", "trigger": "event",
     "event": "first_purchase", "audience": {"stages": ["one_time"]},
     "coupon_kind": "percent", "coupon_value": "10", "coupon_valid_days": 14,
     "steps": [("email", "Journey: thank you for your first order", 0, "", False),
               ("wait", "", 7, "", False),
               ("email", "Journey: a coupon for your second order", 0, "", False),
               ("wait", "", 6, "", False),
               ("condition", "", 0, "coupon_used", True),
               ("email", "Journey: your coupon expires soon", 0, "", False)]},
    {"name": "Journey: post-purchase review", "kind": "custom",
     "template": "Journey: how was your order?", "trigger": "event",
     "event": "first_purchase", "audience": {},
     "steps": [("wait", "", 10, "", False),
               ("email", "Journey: how was your order?", 0, "", False)]},
    {"name": "Journey: win-back", "kind": "win_back", "template": "Journey: we miss you",
     "trigger": "event", "event": "fell_at_risk", "audience": {"stages": ["repeat"]},
     "coupon_kind": "percent", "coupon_value": "15", "coupon_valid_days": 21,
     "steps": [("email", "Journey: we miss you", 0, "", False),
               ("wait", "", 14, "", False),
               ("condition", "", 0, "coupon_used", True),
               ("email", "Journey: last chance to come back", 0, "", False)]},
    {"name": "Journey: first-purchase anniversary", "kind": "thank",
     "template": "Journey: happy anniversary", "trigger": "event", "event": "anniversary",
     "audience": {}, "coupon_kind": "percent", "coupon_value": "10", "coupon_valid_days": 30,
     "steps": [("email", "Journey: happy anniversary", 0, "", False)]},
]


def create_journeys(EmailTemplate, Translation, Campaign, JourneyStep, *,  # noqa: N803
                    turkish: bool) -> None:
    """Create the shipped journeys (inactive) and their templates that are not there yet."""
    for template_data, turkish_data in TEMPLATES:
        template, created = EmailTemplate.objects.get_or_create(
            name=template_data["name"], defaults=template_data)
        if created and turkish:
            Translation.objects.get_or_create(template=template, language="tr",
                                              defaults=turkish_data)
    for data in JOURNEYS:
        values = dict(data)
        steps = values.pop("steps")
        values["template"] = EmailTemplate.objects.get(name=values["template"])
        campaign, created = Campaign.objects.get_or_create(
            name=values.pop("name"), defaults={**values, "is_active": False})
        if not created:
            continue
        for position, (kind, template, wait_days, condition, negate) in enumerate(steps, 1):
            JourneyStep.objects.create(
                campaign=campaign, position=position, kind=kind, wait_days=wait_days,
                template=EmailTemplate.objects.get(name=template) if template else None,
                condition=condition, negate=negate)
