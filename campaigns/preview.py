"""Managers try a template before it goes out: render it for a real contact, send a test."""
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils.translation import gettext as _

from customers.language import contact_language
from customers.models import Contact

from .models import EmailTemplate
from .rendering import Rendered, preview_context, render_email


def template_preview(template: EmailTemplate, contact: Contact, *,
                     language: str | None = None) -> Rendered:
    """The template as this contact would get it (a sample coupon code where it uses one), in
    `language` if given (its translation, or the template itself), else the contact's own."""
    return render_email(template, preview_context(contact),
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
        body=rendered.text, from_email=settings.DEFAULT_FROM_EMAIL, to=[to_email],
        headers={"Content-Language": rendered.language})
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    email.send()
