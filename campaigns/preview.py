"""Managers try a template before it goes out: render it for a real contact, send a test."""
import datetime as dt
from decimal import Decimal

from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.shop import shop
from customers.language import contact_language
from customers.bought.selectors import reorder_due, usual_products
from customers.models import Contact, Product

from . import hooks
from .coupons import COUPON_PREFIX, REFERRAL_PREFIX, code_generate
from .models import Campaign, Coupon, EmailTemplate
from .rendering import Rendered, preview_context, render_email
from .template_needs import COUPON, REFERRAL_CODE, REORDER_PRODUCT, SURVEY, template_needs

# Terms of the sample coupon when no campaign sending the template gives one yet (it cannot
# be sent like that: campaigns.template_needs refuses the campaign until it does).
SAMPLE_COUPON_TERMS = (Campaign.CouponKind.PERCENT, Decimal("10"), 30)


def _coupon_campaign(template: EmailTemplate) -> Campaign | None:
    # The campaigns sending it: as their template, or in a journey's step.
    sending = Campaign.objects.filter(Q(template=template) | Q(steps__template=template))
    return (sending.exclude(coupon_kind=Campaign.CouponKind.NONE)
            .filter(coupon_value__gt=0).distinct().order_by("id").first())


def sample_coupon(template: EmailTemplate, contact: Contact, *,
                  needs: frozenset[str] | None = None) -> Coupon | None:
    """The coupon a campaign sending this template would give the contact, unsaved and with a
    sample code, so {{ coupon.* }} preview as they will be sent; None when the template shows
    no coupon and no campaign sending it gives one (a real send has none either)."""
    campaign = _coupon_campaign(template)
    if campaign is not None:
        kind, value, days = campaign.coupon_kind, campaign.coupon_value, campaign.coupon_valid_days
    elif COUPON in (template_needs(template) if needs is None else needs):
        kind, value, days = SAMPLE_COUPON_TERMS
    else:
        return None
    is_amount = kind == Campaign.CouponKind.AMOUNT
    return Coupon(code=code_generate(COUPON_PREFIX), contact=contact, campaign=campaign,
                  kind=kind, value=value,
                  currency=shop().base_currency if is_amount else "",
                  expires_at=timezone.now() + dt.timedelta(days=days))


def _survey_sample() -> dict | None:
    """Sample survey links (feedback registers them with campaigns.hooks.survey_sample)."""
    return next(iter(hooks.survey_sample.call()), None)


def sample_reorder_product(contact: Contact) -> dict:
    """The product a reminder would name for this contact: one due now, else their usual
    one, else a visibly sample product."""
    today = timezone.localdate()
    due = reorder_due(today=today, contact_ids=[contact.pk]) if contact.pk else []
    if due:
        product = Product.objects.get(pk=min(due, key=lambda d: d.due_on).product_id)
        return {"name": product.name or product.sku, "category": product.category}
    usual = usual_products([contact.pk], limit=1).get(contact.pk) if contact.pk else None
    if usual:
        return usual[0].as_context()
    return {"name": _("SAMPLE product"), "category": ""}


def sample_context(template: EmailTemplate, contact: Contact) -> dict:
    """The context a real send of this template would give the contact (rendering._context,
    as for an outbox row), with samples for what only the send creates: a coupon, the
    referral code a referral campaign would give them, survey links (visibly SAMPLE)."""
    needs = template_needs(template)
    survey = _survey_sample() if SURVEY in needs else None
    referral = code_generate(REFERRAL_PREFIX) if REFERRAL_CODE in needs else ""
    reorder = sample_reorder_product(contact) if REORDER_PRODUCT in needs else None
    return preview_context(contact, coupon=sample_coupon(template, contact, needs=needs),
                           sample_referral_code=referral, survey=survey,
                           reorder_product=reorder)


def template_preview(template: EmailTemplate, contact: Contact, *,
                     language: str | None = None) -> Rendered:
    """The template as this contact would get it (samples where a send creates the value), in
    `language` if given (its translation, or the template itself), else the contact's own."""
    return render_email(template, sample_context(template, contact),
                        language=language or contact_language(contact))


def template_send_test(template: EmailTemplate, contact: Contact | None, *, to_email: str,
                       language: str | None = None) -> None:
    """Send the rendered template to a staff address; the subject says it is a test."""
    if contact is None:
        # id 0 is no contact: the test email's unsubscribe link leads nowhere harmful.
        contact = Contact(id=0, first_name=_("Ada"), last_name=_("Example"), email=to_email)
    rendered = template_preview(template, contact, language=language)
    email = EmailMultiAlternatives(
        subject=_("[Test] %(subject)s") % {"subject": rendered.subject},
        body=rendered.text, from_email=shop().from_email, to=[to_email],
        headers={"Content-Language": rendered.language})
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    email.send()
