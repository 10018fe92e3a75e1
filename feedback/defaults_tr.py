"""Turkish translations of the shipped email templates (campaigns.defaults, feedback.defaults).

Here in feedback, the higher of the two apps, because it reads both (it was campaigns.defaults_tr).

Migration 0004 applied a frozen copy (campaigns/migrations/_frozen_0004.py); a change here
needs a new migration. Same template variables as the English originals; amounts go through
the money filter so they read "₺10,00" in Turkish. Keyed by the template's name, with the
English subject the translation belongs to: a template a manager has rewritten since does not
get a translation of text it no longer has.
"""
from django.conf import settings

from campaigns.defaults import TEMPLATES

from .defaults import TEMPLATE as SURVEY_TEMPLATE

LANGUAGE = "tr"
_UNSUBSCRIBE = "Bu e-postaları almak istemiyor musunuz? {{ unsubscribe_url }}\n"
_HELLO = "Merhaba{% if contact.first_name %} {{ contact.first_name }}{% endif %},\n\n"

TRANSLATIONS = {
    "Second order coupon": {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, bir sonraki siparişiniz için "
                   "küçük bir teşekkür",
        "body_text": (
            "{% load money %}" + _HELLO +
            "Bizi tercih ettiğiniz için teşekkür ederiz. Bir sonraki siparişinizde "
            "{{ coupon.code }} koduyla {% if coupon.kind == 'percent' %}"
            "%{{ coupon.value|floatformat:0 }}{% else %}{{ coupon.value|money:coupon.currency }}"
            "{% endif %} indirim sizi bekliyor. Kod "
            "{{ coupon.expires_at|date:'DATE_FORMAT' }} tarihine kadar geçerli.\n\n"
            "Yakında görüşmek üzere!\n\n" + _UNSUBSCRIBE
        ),
    },
    "Thank you, loyal client": {
        "subject": "Teşekkürler {{ contact.first_name|default:'dostumuz' }}: bu sefer bizden",
        "body_text": (
            "{% load money %}" + _HELLO +
            "Bize tekrar tekrar geldiniz ve bunu fark ettik. Teşekkür olarak "
            "{{ coupon.code }} koduyla {{ coupon.value|money:coupon.currency }} indirim "
            "kazandınız; kod {{ coupon.expires_at|date:'DATE_FORMAT' }} tarihine kadar "
            "geçerli.\n\n" + _UNSUBSCRIBE
        ),
    },
    "We miss you": {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, sizi özledik",
        "body_text": (
            _HELLO +
            "{% if last_purchase %}{{ last_purchase.purchased_at|date:'DATE_FORMAT' }} "
            "tarihindeki siparişinizden bu yana{% else %}Uzun zamandır{% endif %} sizi "
            "göremedik. {{ coupon.code }} koduyla %{{ coupon.value|floatformat:0 }} indirimle "
            "geri dönün (kod {{ coupon.expires_at|date:'DATE_FORMAT' }} tarihine kadar "
            "geçerli).\n\n" + _UNSUBSCRIBE
        ),
    },
    "Tell a friend": {
        "subject": "Sevginizi paylaşın {{ contact.first_name|default:'dostumuz' }}",
        "body_text": (
            _HELLO +
            "Bizi sevecek birini tanıyor musunuz? Ona kişisel kodunuzu verin: "
            "{{ referral_code }}. O ilk siparişinde indirim kazanır, siz de o alışveriş yapar "
            "yapmaz bir ödül kuponu kazanırsınız.\n\n" + _UNSUBSCRIBE
        ),
    },
    SURVEY_TEMPLATE["name"]: {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, bizi nasıl buldunuz?",
        "body_text": (
            _HELLO +
            "Bizi bir arkadaşınıza ya da iş arkadaşınıza tavsiye etme olasılığınız nedir? "
            "0 (hiç olası değil) ile 10 (kesinlikle olası) arasında bir sayıya tıklayın:\n\n"
            "{% for link in survey.links %}{{ link.score }}: {{ link.url }}\n{% endfor %}\n"
            "Anket {{ survey.closes_on|date:'DATE_FORMAT' }} tarihine kadar açık.\n\n"
            + _UNSUBSCRIBE
        ),
        "body_html": (
            "<p>Merhaba{% if contact.first_name %} {{ contact.first_name }}{% endif %},</p>\n"
            "<p>Bizi bir arkadaşınıza ya da iş arkadaşınıza tavsiye etme olasılığınız "
            "nedir?</p>\n"
            "<table role=\"presentation\"><tr>{% for link in survey.links %}"
            "<td style=\"padding:2px\"><a href=\"{{ link.url }}\" style=\"display:inline-block;"
            "min-width:28px;padding:6px;border:1px solid #888;border-radius:4px;"
            "text-align:center;text-decoration:none\">{{ link.score }}</a></td>{% endfor %}"
            "</tr></table>\n"
            "<p><small>0 = hiç olası değil, 10 = kesinlikle olası. "
            "{{ survey.closes_on|date:'DATE_FORMAT' }} tarihine kadar açık.</small></p>\n"
            "<p><small><a href=\"{{ unsubscribe_url }}\">Abonelikten çık</a></small></p>\n"
        ),
    },
}

_PRODUCT_LIST = ("{{ product.name }}{% if not forloop.last %}, {% endif %}{% endfor %}.")
TRANSLATIONS["Time to reorder"] = {
    "subject": "{{ contact.first_name|default:'Merhaba' }}, {{ reorder_product.name }} "
               "yenileme zamanı mı?",
    "body_text": (
        _HELLO +
        "{{ reorder_product.name }} bitmek üzere olabilir: son siparişinizin üzerinden "
        "genellikle yeniden sipariş verdiğiniz kadar zaman geçti.{% if usual_products %} "
        "En sevdikleriniz: {% for product in usual_products %}" + _PRODUCT_LIST +
        "{% endif %}{% if also_bought %}\n\nAynı ürünleri alanlar bunları da seviyor: "
        "{% for product in also_bought %}" + _PRODUCT_LIST + "{% endif %}\n\n"
        "Yakında görüşmek üzere!\n\n" + _UNSUBSCRIBE
    ),
}

# The journeys' templates (campaigns.defaults.JOURNEY_TEMPLATES), shipped with their Turkish by
# campaigns migration 0015 (frozen there).
_J_UNSUBSCRIBE = "\n\nBu e-postaları almak istemiyor musunuz? {{ unsubscribe_url }}\n"
_J_OFF = ("{% if coupon.kind == 'percent' %}%{{ coupon.value|floatformat:0 }} indirim"
          "{% else %}{{ coupon.value }} {{ coupon.currency }} indirim{% endif %}")
_J_UNTIL = "{{ coupon.expires_at|date:'DATE_FORMAT' }}"
TRANSLATIONS.update({
    "Journey: thank you for your first order": {
        "subject": "İlk siparişiniz için teşekkürler{% if contact.first_name %}, "
                   "{{ contact.first_name }}{% endif %}",
        "body_text": _HELLO + "İlk siparişiniz için bizi seçtiğiniz için teşekkür ederiz. "
                     "Umarız beğenirsiniz; bir sorun olursa bu e-postayı yanıtlamanız yeterli, "
                     "hemen ilgileniriz." + _J_UNSUBSCRIBE,
    },
    "Journey: a coupon for your second order": {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, bir sonraki siparişiniz için "
                   "küçük bir hediye",
        "body_text": _HELLO + "Bir sonraki siparişinizde {{ coupon.code }} koduyla " + _J_OFF
                     + " sizi bekliyor; kod " + _J_UNTIL + " tarihine kadar geçerli.\n\n"
                     "Yakında görüşmek üzere!" + _J_UNSUBSCRIBE,
    },
    "Journey: your coupon expires soon": {
        "subject": "Kuponunuzun süresi " + _J_UNTIL + " tarihinde doluyor",
        "body_text": _HELLO + "Küçük bir hatırlatma: " + _J_OFF + " sağlayan "
                     "{{ coupon.code }} kodunuz " + _J_UNTIL + " tarihine kadar sizi bekliyor."
                     + _J_UNSUBSCRIBE,
    },
    "Journey: how was your order?": {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, siparişiniz nasıldı?",
        "body_text": _HELLO + "Siparişiniz bir süredir elinizde: nasıl buldunuz? 0 ile 10 "
                     "arasında, bizi bir arkadaşınıza önerme olasılığınız nedir? Bu e-postayı "
                     "bir sayı ve birkaç kelimeyle yanıtlamanız yeterli; her yanıtı okuyoruz."
                     + _J_UNSUBSCRIBE,
    },
    "Journey: we miss you": {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, sizi özledik",
        "body_text": _HELLO + "Uzun zamandır görüşemedik{% if last_purchase %} (son "
                     "siparişiniz: {{ last_purchase.purchased_at|date:'DATE_FORMAT' }})"
                     "{% endif %}. {{ coupon.code }} koduyla " + _J_OFF + " sizi bekliyor; kod "
                     + _J_UNTIL + " tarihine kadar geçerli." + _J_UNSUBSCRIBE,
    },
    "Journey: last chance to come back": {
        "subject": "Son hatırlatma: kuponunuzun süresi " + _J_UNTIL
                   + " tarihinde doluyor",
        "body_text": _HELLO + "Bu son hatırlatmamız: " + _J_OFF + " sağlayan "
                     "{{ coupon.code }} kodunuz " + _J_UNTIL + " tarihinde sona eriyor. Sizi "
                     "yeniden görmeyi çok isteriz." + _J_UNSUBSCRIBE,
    },
    "Journey: happy anniversary": {
        "subject": "{{ contact.first_name|default:'Merhaba' }}, bir yıl oldu bile!",
        "body_text": _HELLO + "Bugün bize ilk siparişinizi verdiğiniz gün. O günden beri "
                     "bizimle olduğunuz için teşekkürler! Kutlamak için {{ coupon.code }} "
                     "koduyla " + _J_OFF + " sizi bekliyor; kod " + _J_UNTIL + " tarihine "
                     "kadar geçerli." + _J_UNSUBSCRIBE,
    },
})

# The English text each translation was written for (see the module docstring).
ORIGINALS = {data["name"]: {"subject": data["subject"], "body_text": data["body_text"]}
             for data in [*TEMPLATES, SURVEY_TEMPLATE]}


def create_translations(EmailTemplate, EmailTemplateTranslation) -> None:  # noqa: N803 - model classes (historical in migrations)
    """Add the Turkish translation of each shipped template that is still as shipped and has
    none yet; existing translations and managers' rewrites stay untouched. Nothing when the
    shop does not offer Turkish, or Turkish is its default (the templates would be the
    place for Turkish then)."""
    offered = {code for code, _name in settings.LANGUAGES}
    if LANGUAGE not in offered or settings.LANGUAGE_CODE == LANGUAGE:
        return
    for name, texts in TRANSLATIONS.items():
        template = EmailTemplate.objects.filter(name=name, **ORIGINALS[name]).first()
        if template is not None:
            EmailTemplateTranslation.objects.get_or_create(
                template=template, language=LANGUAGE, defaults=texts)
