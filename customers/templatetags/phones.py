"""Stored phone numbers (E.164) on pages: `{{ contact.phone|phone_national }}`, and the
`tel:` and WhatsApp links ("" for a number stored before E.164: show it, do not link it)."""
from django import template

from customers import phones

register = template.Library()


@register.filter
def phone_national(value: str) -> str:
    return phones.format_national(value or "")


@register.filter
def phone_tel(value: str) -> str:
    return phones.tel_uri(value or "")


@register.filter
def phone_whatsapp(value: str) -> str:
    return phones.whatsapp_url(value or "")
