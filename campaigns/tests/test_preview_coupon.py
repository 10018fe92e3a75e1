"""The preview fills {{ coupon }} as the campaign sending the template would: a sample code with
the campaign's value, so money:coupon.currency and the code show (and do not crash)."""
import pytest
from django.urls import reverse

from campaigns.models import Campaign, EmailTemplate
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_preview_shows_the_campaigns_coupon_with_a_sample_code(client, manager, settings):
    settings.CRM_BASE_CURRENCY = "USD"
    template = EmailTemplate.objects.create(
        name="Coupon", subject="For you",
        body_text="{% load money %}{{ coupon.value|money:coupon.currency }} off with "
                  "[{{ coupon.code }}]")
    Campaign.objects.create(name="Loyal", template=template, coupon_kind="amount",
                            coupon_value=15, coupon_valid_days=30)
    contact = ContactFactory(email="ada@example.com")
    client.force_login(manager)

    response = client.get(reverse("admin:campaigns_template_preview", args=[template.pk]),
                          {"contact_email": contact.email})

    text = response.content.decode()
    assert response.status_code == 200
    assert "$15.00 off with [CP-" in text
