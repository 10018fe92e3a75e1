"""The shipped "time to reorder" campaign (switched off) and its template, with Turkish.

Frozen: the texts as of 2026-12-07 (campaigns.defaults, feedback.defaults_tr); a later change
there needs a migration of its own. Nothing is overwritten: a template or campaign of the same
name is left as it is, and a Turkish translation is added only where Turkish is offered and
not the default language.
"""
from django.conf import settings
from django.db import migrations

TEMPLATE = {'body_text': "Hello {{ contact.first_name|default:'there' }},\n"
              '\n'
              'Your {{ reorder_product.name }} may be running low: it has been about as long '
              'as usual since you last ordered it.{% if usual_products %} Your favourites: {% '
              'for product in usual_products %}{{ product.name }}{% if not forloop.last %}, {% '
              'endif %}{% endfor %}.{% endif %}{% if also_bought %}\n'
              '\n'
              'Others who buy the same also like: {% for product in also_bought %}{{ '
              'product.name }}{% if not forloop.last %}, {% endif %}{% endfor %}.{% endif %}\n'
              '\n'
              'See you soon!\n'
              '\n'
              "Don't want these emails? {{ unsubscribe_url }}\n",
 'name': 'Time to reorder',
 'subject': "{{ contact.first_name|default:'Hello' }}, time for more {{ reorder_product.name "
            '}}?'}

TRANSLATION_TR = {'body_text': 'Merhaba{% if contact.first_name %} {{ contact.first_name }}{% endif %},\n'
              '\n'
              '{{ reorder_product.name }} bitmek üzere olabilir: son siparişinizin üzerinden '
              'genellikle yeniden sipariş verdiğiniz kadar zaman geçti.{% if usual_products %} '
              'En sevdikleriniz: {% for product in usual_products %}{{ product.name }}{% if '
              'not forloop.last %}, {% endif %}{% endfor %}.{% endif %}{% if also_bought %}\n'
              '\n'
              'Aynı ürünleri alanlar bunları da seviyor: {% for product in also_bought %}{{ '
              'product.name }}{% if not forloop.last %}, {% endif %}{% endfor %}.{% endif %}\n'
              '\n'
              'Yakında görüşmek üzere!\n'
              '\n'
              'Bu e-postaları almak istemiyor musunuz? {{ unsubscribe_url }}\n',
 'subject': "{{ contact.first_name|default:'Merhaba' }}, {{ reorder_product.name }} yenileme "
            'zamanı mı?'}

CAMPAIGN = {'audience': {},
 'event': 'reorder_due',
 'kind': 'custom',
 'name': 'Remind clients to reorder',
 'template': 'Time to reorder',
 'trigger': 'event'}


def create(apps, schema_editor):
    EmailTemplate = apps.get_model("campaigns", "EmailTemplate")
    Translation = apps.get_model("campaigns", "EmailTemplateTranslation")
    Campaign = apps.get_model("campaigns", "Campaign")
    template, created = EmailTemplate.objects.get_or_create(name=TEMPLATE["name"],
                                                            defaults=TEMPLATE)
    offered = {code for code, _name in settings.LANGUAGES}
    if created and "tr" in offered and settings.LANGUAGE_CODE != "tr":
        Translation.objects.get_or_create(template=template, language="tr",
                                          defaults=TRANSLATION_TR)
    values = {**CAMPAIGN, "template": template}
    Campaign.objects.get_or_create(name=values.pop("name"), defaults=values)


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0012_bought_reorder_reminders"),
    ]

    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
