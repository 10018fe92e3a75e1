"""Bad input to subject tests: variants whose template cannot be rendered or shows what the
campaign does not create are refused (at save, and a run refuses to start); a variant's
template cannot be deleted."""
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db.models import ProtectedError

from campaigns.campaign_service import campaign_update
from campaigns.models import Campaign, ContentVariant, EmailTemplate, JourneyStep, Message
from campaigns.services import campaign_run_start
from campaigns.variants import variant_save

from .variant_helpers import buyers, campaign, template, variants

pytestmark = pytest.mark.django_db


def test_a_template_that_cannot_be_rendered_is_refused():
    offer = campaign()
    broken = EmailTemplate.objects.create(name="Broken", subject="Hi", body_text="{% if %}oops")

    with pytest.raises(ValidationError, match="cannot be rendered"):
        variant_save(ContentVariant(campaign=offer, label="A", template=broken))

    assert not ContentVariant.objects.exists()


def test_a_template_showing_a_coupon_the_campaign_does_not_give_is_refused():
    offer = campaign()

    with pytest.raises(ValidationError, match="This template shows a coupon"):
        variant_save(ContentVariant(campaign=offer, label="A",
                                    template=template("Code", coupon=True)))


def test_a_coupon_variant_is_fine_for_a_campaign_with_a_coupon():
    offer = campaign(coupon_kind=Campaign.CouponKind.PERCENT, coupon_value=Decimal("10"))

    saved = variant_save(ContentVariant(campaign=offer, label="A",
                                        template=template("Code", coupon=True)))

    assert saved.pk is not None


def test_a_journey_step_of_another_campaign_is_refused():
    other = campaign()
    step = JourneyStep.objects.create(campaign=other, position=1, kind=JourneyStep.Kind.EMAIL,
                                      template=template("Step"))

    with pytest.raises(ValidationError, match="belongs to another campaign"):
        variant_save(ContentVariant(campaign=campaign(), step=step, label="A",
                                    template=template("A")))


def test_a_run_refuses_to_start_when_a_variant_needs_what_the_campaign_lacks():
    buyers(3)
    offer = campaign()
    variants(offer, coupon=True)  # written around the service, as code might

    with pytest.raises(ValidationError, match="Variant “A”: This template shows a coupon"):
        campaign_run_start(campaign=offer)

    assert not Message.objects.exists()


def test_taking_the_coupon_away_from_a_campaign_whose_variant_shows_it_is_refused():
    offer = campaign(coupon_kind=Campaign.CouponKind.PERCENT, coupon_value=Decimal("10"))
    variants(offer, coupon=True)

    with pytest.raises(ValidationError, match="Variant “A”"):
        campaign_update(offer, coupon_kind="", coupon_value=None)


def test_editing_a_variants_template_to_show_a_coupon_is_refused():
    offer = campaign()
    _test, (a, b) = variants(offer)
    edited = a.template
    edited.body_text = "Your code {{ coupon.code }} {{ unsubscribe_url }}"

    with pytest.raises(ValidationError, match="This template shows a coupon"):
        edited.full_clean()


def test_a_variants_template_cannot_be_deleted():
    offer = campaign()
    _test, (a, b) = variants(offer)

    with pytest.raises(ProtectedError):
        a.template.delete()

    assert ContentVariant.objects.filter(pk=a.pk).exists()


def test_removing_a_test_sends_its_waiting_rows_the_campaigns_own_email():
    from campaigns.variants import variant_test_delete

    buyers(4)
    offer = campaign()
    test, _made = variants(offer, test_percent=50)
    run = campaign_run_start(campaign=offer)

    released = variant_test_delete(test)

    assert released == 2
    assert set(run.messages.filter(variant__isnull=True).values_list("status", "template")) == {
        (Message.Status.QUEUED, None)}
