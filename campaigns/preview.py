"""Managers try a template before it goes out: render it for a real contact, send a test."""
import datetime as dt

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone
from django.utils.translation import gettext as _

from customers.language import contact_language
from customers.models import Contact

from .coupons import COUPON_PREFIX, code_generate
from .models import Campaign, Coupon, EmailTemplate
from .rendering import Rendered, preview_context, render_email


def sample_coupon(template: EmailTemplate, contact: Contact) -> Coupon | None:
    """The coupon a campaign sending this template would give the contact, unsaved and with a
    sample code, so {{ coupon.* }} preview as they will be sent; None if no campaign gives one."""
    campaign = (template.campaigns.exclude(coupon_kind=Campaign.CouponKind.NONE)
                .filter(coupon_value__gt=0).order_by("id").first())
    if campaign is None:
        return None
    is_amount = campaign.coupon_kind == Campaign.CouponKind.AMOUNT
    return Coupon(code=code_generate(COUPON_PREFIX), contact=contact, campaign=campaign,
                  kind=campaign.coupon_kind, value=campaign.coupon_value,
                  currency=settings.CRM_BASE_CURRENCY if is_amount else "",
                  expires_at=timezone.now() + dt.timedelta(days=campaign.coupon_valid_days))


def template_preview(template: EmailTemplate, contact: Contact, *,
                     language: str | None = None) -> Rendered:
    """The template as this contact would get it (a sample coupon code where it uses one), in
    `language` if given (its translation, or the template itself), else the contact's own."""
    context = preview_context(contact, coupon=sample_coupon(template, contact))
    return render_email(template, context, language=language or contact_language(contact))


def template_send_test(template: EmailTemplate, contact: Contact | None, *, to_email: str,
                       language: str | None = None) -> None:
    """Send the rendered template to a staff address; the subject says it is a test."""
    if contact is None:
        # id 0 is no contact: the test email's unsubscribe link leads nowhere harmful.
        contact = Contact(id=0, first_name=_("Ada"), last_name=_("Example"), email=to_email)
    rendered = template_preview(template, contact, language=language)
    email = EmailMultiAlternatives(
        subject=_("[Test] %(subject)s") % {"subject": rendered.subject},
        body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to_email],
        headers={"Content-Language": rendered.language})
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    email.send()
