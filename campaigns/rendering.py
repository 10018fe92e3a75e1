"""Turning an EmailTemplate and one contact into a subject, a plain text and an HTML body.

Templates are written by staff in Django template syntax and compiled with an engine of our
own, not the site's: it has no template loaders (so {% include %} and {% extends %} cannot read
files), loads no tag libraries beyond humanize, i18n, l10n and money (customers), and is fed
plain dicts of strings, numbers and dates, never model instances, so a template can only print
what we chose to give it. HTML is autoescaped; plain text and the subject are not (there is
nothing to escape in them), and the subject is folded onto one line so nothing in it can start
a new header.

Every part comes out as a plain str, never Django's SafeString (what Template.render returns):
the result is the email's content, data for whatever shows it, so a page that displays it (the
admin preview) escapes it like any other text instead of trusting a contact's name as markup.

Each contact gets the template's translation into their language (Contact.language, blank =
the shop's default, which the template itself is written in), rendered with that language
active; a language without a translation falls back to the template itself.
"""
import datetime as dt
import functools
import uuid
from dataclasses import dataclass
from decimal import Decimal
from email.utils import parseaddr

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db.models import OuterRef, Subquery
from django.template import Context, Engine, Template, TemplateDoesNotExist, TemplateSyntaxError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from crm.shop import Shop, shop
from customers.bought.selectors import also_bought, usual_products
from customers.language import contact_language
from customers.models import Contact, Purchase

from . import hooks
from .clicks import token_path
from .models import (
    Coupon,
    EmailTemplate,
    EmailTemplateTranslation,
    Message,
    ReferralCode,
    ReorderReminder,
)
from .template_needs import ALSO_BOUGHT, REORDER_PRODUCT, USUAL_PRODUCTS, parts_needs
from .tokens import unsubscribe_token

LIBRARIES = {
    "humanize": "django.contrib.humanize.templatetags.humanize",
    "i18n": "django.templatetags.i18n",
    "l10n": "django.templatetags.l10n",
    "money": "customers.templatetags.money",
}

# {(template id, language): translation}, loaded once for a batch (template_translations).
Translations = dict[tuple[int, str], EmailTemplateTranslation]


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str = ""  # the language it was rendered in; "" = whatever was active


@functools.cache
def _engine(autoescape: bool) -> Engine:
    # debug=True makes syntax errors carry their line number (error.template_debug).
    return Engine(loaders=[], libraries=LIBRARIES, autoescape=autoescape, debug=True)


@functools.lru_cache(maxsize=256)
def _compile(source: str, autoescape: bool) -> Template:
    """Compiled once per distinct source: a batch renders one template hundreds of times."""
    return _engine(autoescape).from_string(source)


def _syntax_error(field: str, error: Exception) -> ValidationError:
    line = getattr(error, "template_debug", {}).get("line")
    if line is None:
        message = _("Template error: %(error)s") % {"error": error}
    else:
        message = _("Line %(line)s: %(error)s") % {"line": line, "error": error}
    return ValidationError({field: message}, code="template_syntax")


def _render_part(field: str, source: str, context: dict, *, autoescape: bool) -> str:
    if not source:
        return ""
    try:
        rendered = _compile(source, autoescape).render(Context(context, autoescape=autoescape))
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise _syntax_error(field, error) from error
    # str.__str__ drops the SafeString type (str() would keep it); see the module docstring.
    return str.__str__(rendered)


def clean_subject(subject: str) -> str:
    """One line: CR, LF, tabs and runs of spaces become single spaces (no header injection)."""
    return " ".join(subject.split())


def template_translations(template_ids) -> Translations:
    """Every translation of these templates in one query, for a whole batch of messages."""
    rows = EmailTemplateTranslation.objects.filter(template_id__in=set(template_ids))
    return {(row.template_id, row.language): row for row in rows}


def localized(template: EmailTemplate, language: str,
              translations: Translations | None = None) -> EmailTemplate | EmailTemplateTranslation:
    """The template's text in `language`: its translation, else the template itself (which is
    written in the default language). Without preloaded `translations` this costs a query."""
    if language == settings.LANGUAGE_CODE:
        return template
    if translations is None:
        found = template.translations.filter(language=language).first()
    else:
        found = translations.get((template.pk, language))
    return found or template


def _render_parts(source, context: dict) -> tuple[str, str, str]:
    return (clean_subject(_render_part("subject", source.subject, context, autoescape=False)),
            _render_part("body_text", source.body_text, context, autoescape=False),
            _render_part("body_html", source.body_html, context, autoescape=True))


def render_email(template: EmailTemplate, context: dict, *, language: str | None = None,
                 translations: Translations | None = None) -> Rendered:
    """Render the three parts; a syntax error raises ValidationError naming the field and line.

    With a `language`, the template's translation into it is used and the language is active
    while rendering, so dates, numbers, money and {% translate %} come out in it too. With no
    translation the template itself is rendered in the default language, its own, rather than
    English text with Turkish dates. The previously active language is restored afterwards.
    Without a `language`, the template is rendered as it is, in whatever language is active.
    """
    if language is None:
        return Rendered(*_render_parts(template, context))
    source = localized(template, language, translations)
    if source is template:
        language = settings.LANGUAGE_CODE
    with translation.override(language):
        return Rendered(*_render_parts(source, context), language=language)


def _sample_context() -> dict:
    """What a real message's context holds (see _context and feedback.emails), all filled in.

    Not also an empty one: a coupon template rightly assumes its campaign gives a coupon, and
    {{ coupon.value|money:coupon.currency }} fails without one."""
    today = dt.date(2030, 1, 31)
    return {
        "contact": {"first_name": "Ada", "last_name": "Example", "email": "ada@example.com",
                    "full_name": "Ada Example"},
        "coupon": {"code": "SAMPLE-CODE", "value": Decimal("10.00"), "kind": "percent",
                   "currency": shop().base_currency, "expires_at": today},
        "referral_code": "SAMPLE-REF",
        "last_purchase": {"purchased_at": dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC),
                          "amount": Decimal("49.90"), "currency": shop().base_currency},
        "unsubscribe_url": settings.CRM_PUBLIC_URL.rstrip("/") + "/u/sample/",
        "survey": {"links": [{"score": score, "url": f"https://example.com/s/{score}/"}
                             for score in range(11)], "closes_on": today},
        "usual_products": [{"name": "Sample tea", "category": "Tea"},
                           {"name": "Sample honey", "category": "Deli"}],
        "also_bought": [{"name": "Sample teapot", "category": "Kitchen"}],
        "reorder_product": {"name": "Sample tea", "category": "Tea"},
    }


def _check_part(source: str, autoescape: bool) -> None:
    """Compile, then render against the sample context: a part that compiles can still fail
    every message when rendered ({% url %} of an unknown name, {% include %})."""
    compiled = _compile(source, autoescape)
    try:
        compiled.render(Context(_sample_context(), autoescape=autoescape))
    except (TemplateSyntaxError, TemplateDoesNotExist):
        raise
    except Exception as error:  # any failure here would fail every message
        problem = TemplateSyntaxError(f"{type(error).__name__}: {error}")
        if hasattr(error, "template_debug"):  # the engine's debug mode adds the line
            problem.template_debug = error.template_debug
        raise problem from error


def validate_template(template: EmailTemplate | EmailTemplateTranslation,
                      language: str | None = None) -> None:
    """Compile and try every part once, raising one ValidationError for all errors, each
    naming its field (and line, where the engine knows it). The model's clean() calls this,
    so every way of saving a template (admin, forms, full_clean in code) is checked."""
    errors: dict[str, list] = {}
    with translation.override(language or settings.LANGUAGE_CODE):
        for field, autoescape in (("subject", False), ("body_text", False),
                                  ("body_html", True)):
            source = getattr(template, field)
            try:
                if source:
                    _check_part(source, autoescape)
            except (TemplateSyntaxError, TemplateDoesNotExist) as error:
                errors.update(_syntax_error(field, error).error_dict)
    if errors:
        raise ValidationError(errors)


# --- Context ---------------------------------------------------------------------------------

def unsubscribe_url(contact_id: int) -> str:
    path = token_path("campaigns:unsubscribe", unsubscribe_token(contact_id))
    return settings.CRM_PUBLIC_URL.rstrip("/") + path


def _contact_data(contact: Contact) -> dict:
    return {"first_name": contact.first_name, "last_name": contact.last_name,
            "email": contact.email, "full_name": contact.full_name}


def _coupon_data(coupon: Coupon | None) -> dict | None:
    if coupon is None:
        return None
    return {"code": coupon.code, "value": coupon.value, "kind": coupon.kind,
            "currency": coupon.currency, "expires_at": coupon.expires_at}


def _purchase_data(purchase: Purchase | None) -> dict | None:
    if purchase is None:
        return None
    return {"purchased_at": purchase.purchased_at, "amount": purchase.amount,
            "currency": purchase.currency}


def _context(contact: Contact, coupon: Coupon | None, referral_code: str,
             last_purchase: Purchase | None) -> dict:
    return {
        "contact": _contact_data(contact),
        "coupon": _coupon_data(coupon),
        "referral_code": referral_code,
        "last_purchase": _purchase_data(last_purchase),
        "unsubscribe_url": unsubscribe_url(contact.pk),
    }


def _referral_codes(contact_ids: list[int]) -> dict[int, str]:
    return dict(ReferralCode.objects.filter(contact_id__in=contact_ids)
                .values_list("contact_id", "code"))


def _last_purchases(contact_ids: list[int]) -> dict[int, Purchase]:
    """Each contact's latest purchase that still counts (not refunded): two queries in all."""
    latest = Purchase.objects.counted().filter(contact=OuterRef("pk")).order_by(
        "-purchased_at", "-id").values("id")[:1]
    purchase_ids = dict(Contact.objects.filter(id__in=contact_ids)
                        .annotate(latest=Subquery(latest)).values_list("id", "latest"))
    purchases = Purchase.objects.in_bulk([pid for pid in purchase_ids.values() if pid])
    return {contact_id: purchases[pid] for contact_id, pid in purchase_ids.items() if pid}


def _batch_needs(messages: list[Message]) -> frozenset[str]:
    """The product variables the batch's templates use, in any language (one query)."""
    templates = {message.email_template for message in messages}
    translations = EmailTemplateTranslation.objects.filter(template__in=templates)
    return parts_needs([*templates, *translations])


def product_contexts(contact_ids: list[int], needs: frozenset[str]) -> dict[int, dict]:
    """{contact: usual_products and also_bought} for the variables in `needs` (customers.
    bought: a few queries for the whole batch, none when no template uses them)."""
    contexts: dict[int, dict] = {pk: {} for pk in contact_ids}
    for name, read in ((USUAL_PRODUCTS, usual_products), (ALSO_BOUGHT, also_bought)):
        if name in needs:
            found = read(contact_ids)
            for pk in contact_ids:
                contexts[pk][name] = [ref.as_context() for ref in found.get(pk, [])]
    return contexts


def _reorder_products(messages: list[Message]) -> dict[int, dict]:
    """{message: its reminder's product} for "time to reorder" rows (campaigns.reorder)."""
    reminders = ReorderReminder.objects.filter(
        message_id__in=[message.pk for message in messages]).select_related("product")
    return {reminder.message_id: {"name": reminder.product.name or reminder.product.sku,
                                  "category": reminder.product.category}
            for reminder in reminders}


def _journey_coupons(messages: list[Message]) -> dict[int, Coupon]:
    """{enrollment: its coupon} for journey rows without a coupon of their own: a reminder
    step shows the coupon an earlier step of the same enrollment issued (Message.coupon is
    one-to-one). No query for batches without such rows."""
    enrollment_ids = {m.enrollment_id for m in messages
                      if m.enrollment_id is not None and m.coupon_id is None}
    if not enrollment_ids:
        return {}
    issued = (Message.objects.filter(enrollment_id__in=enrollment_ids, coupon__isnull=False)
              .select_related("coupon").order_by("-pk"))
    return {row.enrollment_id: row.coupon for row in issued}  # the first one issued wins


def message_contexts(messages: list[Message]) -> dict[int, dict]:
    """Template contexts for many messages in three queries (load messages with
    select_related("contact", "coupon", "campaign__template")), and a few more when the
    templates show products."""
    contact_ids = [message.contact_id for message in messages]
    codes, purchases = _referral_codes(contact_ids), _last_purchases(contact_ids)
    surveys = hooks.survey_contexts.merged(messages)  # feedback: the survey rows' links
    needs = _batch_needs(messages) if messages else frozenset()
    products = product_contexts(contact_ids, needs)
    reorders = _reorder_products(messages) if REORDER_PRODUCT in needs else {}
    journey_coupons = _journey_coupons(messages)
    return {message.pk: {**_context(message.contact,
                                    message.coupon or journey_coupons.get(message.enrollment_id),
                                    codes.get(message.contact_id, ""),
                                    purchases.get(message.contact_id)),
                         "survey": surveys.get(message.pk),
                         **products[message.contact_id],
                         "reorder_product": reorders.get(message.pk)}
            for message in messages}


def message_context(message: Message) -> dict:
    """The context one outbox row is rendered with: contact, coupon, referral_code,
    last_purchase and unsubscribe_url."""
    return message_contexts([message])[message.pk]


def preview_context(contact: Contact, *, coupon: Coupon | None = None,
                    sample_referral_code: str = "", survey: dict | None = None,
                    reorder_product: dict | None = None) -> dict:
    """The same context, built by the same _context, for a contact before any message exists
    (previews, test sends): their own referral code, last purchase, usual and also-bought
    products, and what a real send would create only then (coupon, a referral code they do
    not have yet, survey links, the product to reorder) passed in as samples by
    campaigns.preview."""
    codes, purchases = _referral_codes([contact.pk]), _last_purchases([contact.pk])
    products = product_contexts([contact.pk], frozenset((USUAL_PRODUCTS, ALSO_BOUGHT)))
    return {**_context(contact, coupon, codes.get(contact.pk) or sample_referral_code,
                       purchases.get(contact.pk)),
            "survey": survey, **products[contact.pk], "reorder_product": reorder_product}


# --- The email -------------------------------------------------------------------------------

def new_message_id() -> str:
    """A globally unique Message-ID for a new outbox row, on the sender's domain."""
    domain = parseaddr(shop().from_email)[1].rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def angled_message_id(message_id: str) -> str:
    message_id = message_id.strip()
    return message_id if message_id.startswith("<") else f"<{message_id}>"


@functools.lru_cache(maxsize=8)
def _from_email(current: Shop) -> str:
    """shop().from_email, formatted once per shop settings rather than per email (it builds an
    email.headerregistry.Address: about 0.06 ms)."""
    return current.from_email


def build_email(message: Message, connection, *, context: dict | None = None,
                rendered: Rendered | None = None) -> EmailMultiAlternatives:
    """The email for one outbox row, to the contact's current address.

    Only the bare address goes into To (never the contact's name), the subject is one line,
    and Django refuses any header value containing CR or LF, so nothing a contact or a staff
    member typed can add a header. Message-ID is the row's, so a resend is recognisable.
    """
    if context is None and rendered is None:
        context = message_context(message)
    if rendered is None:
        rendered = render_email(message.email_template, context,
                                language=contact_language(message.contact))
    unsubscribe = context["unsubscribe_url"] if context else unsubscribe_url(message.contact_id)
    headers = {
        "Message-ID": angled_message_id(message.message_id),
        "List-Unsubscribe": f"<{unsubscribe}>",
        # RFC 8058: mail clients offer a one-click button that POSTs this to the URL.
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if rendered.language:
        headers["Content-Language"] = rendered.language  # RFC 3282
    email = EmailMultiAlternatives(
        subject=rendered.subject, body=rendered.text, from_email=_from_email(shop()),
        to=[message.contact.email], connection=connection, headers=headers,
    )
    if rendered.html:
        email.attach_alternative(rendered.html, "text/html")
    return email
