"""Which language to speak to a contact in: emails, and the public pages reached from them.

Contact.language is blank for "the shop's default" (crm.shop.shop().default_language). Nothing
guesses it from a browser after the fact: only staff, the API, and the public support form (for a
contact it creates) set it.
"""
from django.http import HttpRequest
from django.utils import translation

from crm.shop import shop

from .models import Contact


def supported_language(code: str | None) -> str:
    """The settings.LANGUAGES code for `code` ("tr-TR" → "tr"), or "" if the shop lacks it."""
    if not code:
        return ""
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return ""


def default_language() -> str:
    """The shop's default language: what a contact without one is spoken to in (crm.shop: the
    environment, else the shop settings managers save, else settings.LANGUAGE_CODE)."""
    return shop().default_language


def contact_language(contact: Contact) -> str:
    """The contact's own language if the shop still offers it, else the default language."""
    return supported_language(contact.language) or default_language()


def activate_contact_language(request: HttpRequest, contact: Contact | None) -> None:
    """On a public page that knows the contact (a signed token), their stored language wins
    over the browser's; without one, LocaleMiddleware's choice (Accept-Language) stays."""
    language = supported_language(contact.language) if contact is not None else ""
    if language:
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
