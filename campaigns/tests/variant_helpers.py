"""Shared set-up of the subject and content test tests (campaigns.variants)."""
from campaigns.models import Campaign, ContentVariant, EmailTemplate, VariantTest
from customers.services.contacts import contact_set_consent
from customers.tests.factories import ContactFactory, record_purchase


def template(subject: str, *, coupon: bool = False) -> EmailTemplate:
    body = ("Code {{ coupon.code }} " if coupon else "Hi ") + "{{ unsubscribe_url }}"
    return EmailTemplate.objects.create(name=f"t-{EmailTemplate.objects.count()}",
                                        subject=subject, body_text=body)


def campaign(**values) -> Campaign:
    values.setdefault("name", f"c-{Campaign.objects.count()}")
    values.setdefault("audience", {"stages": ["one_time"]})
    values.setdefault("holdout_percent", 0)
    return Campaign.objects.create(
        template=template("Own subject", coupon=bool(values.get("coupon_kind"))), **values)


def buyers(count: int) -> list:
    contacts = []
    for _ in range(count):
        contact = ContactFactory()
        record_purchase(contact, days_ago=40)
        contact_set_consent(contact=contact, consent=True, source="test")
        contacts.append(contact)
    return contacts


def variants(campaign: Campaign, labels=("A", "B"), *, step=None, coupon: bool = False,
             **test) -> tuple[VariantTest, list[ContentVariant]]:
    made = [ContentVariant.objects.create(campaign=campaign, step=step, label=label,
                                          template=template(f"Subject {label}", coupon=coupon))
            for label in labels]
    return VariantTest.objects.create(campaign=campaign, step=step, **test), made
