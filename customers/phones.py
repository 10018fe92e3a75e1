"""Phone numbers: one rule for every door (dashboard form, admin, API, contacts import).

A number is accepted as people type it: "+90 532 123 45 67", "0532 123 45 67" or
"532 123 45 67" (the last two in the shop's country, CRM_PHONE_REGION), and stored in E.164
("+905321234567"), so one person's number is one value whatever the spelling and can be
dialled, linked (tel:, wa.me) and matched. Validity comes from libphonenumber's metadata
(the `phonenumbers` package): a number of the wrong length or in no allocated range is
refused, with an example of a good one. A check costs about 90 µs (phonenumbers' parse and
validity check): 1.5 minutes for a million-row contacts import with phones.
"""
import re

import phonenumbers
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.utils.translation import gettext as _

# What a person types: digits 0-9, spaces, + - ( ) . / only. phonenumbers alone would read
# letters as keypad digits ("0800-FLOWERS") and other scripts' digits as 0-9: a guess.
_TYPED = re.compile(r"\+?[0-9 ()./-]+")
# Longer than any real number with generous spacing; phonenumbers itself stops at 250.
MAX_TYPED_LENGTH = 40


def phone_region() -> str:
    """The shop's country (ISO 3166 alpha-2): numbers typed without +country code are in it."""
    region = settings.CRM_PHONE_REGION.upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ImproperlyConfigured(f"CRM_PHONE_REGION={region!r} is not a country code that "
                                   f"phonenumbers knows, such as TR, DE or US.")
    return region


def normalise_phone(text: str) -> str:
    """The number in E.164, "" for a blank one; ValidationError when it is not a phone number."""
    # Any run of spaces (a no-break space copied from a web page too) is one space.
    cleaned = " ".join((text or "").split())
    if not cleaned:
        return ""
    number = _parsed(cleaned)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Phone number %(value)s is not valid: write it like %(example)s, or without the "
              "country code for a number in the shop's country."),
            code="invalid_phone",
            params={"value": cleaned[:MAX_TYPED_LENGTH], "example": example_phone()},
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _parsed(text: str) -> phonenumbers.PhoneNumber | None:
    if len(text) > MAX_TYPED_LENGTH or not _TYPED.fullmatch(text):
        return None
    try:
        return phonenumbers.parse(text, phone_region())
    except phonenumbers.NumberParseException:
        return None


def example_phone() -> str:
    """A mobile number of the shop's country, written internationally: for help and errors."""
    region = phone_region()
    example = (phonenumbers.example_number_for_type(region, phonenumbers.PhoneNumberType.MOBILE)
               or phonenumbers.example_number(region))
    return phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def format_national(e164: str) -> str:
    """A stored number as people of its country write it ("0532 123 45 67"); a number stored
    before E.164 (or not parseable) is shown as it is."""
    number = _stored(e164)
    if number is None:
        return e164
    if number.country_code != phonenumbers.country_code_for_region(phone_region()):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)


def tel_uri(e164: str) -> str:
    """"tel:+905321234567" (RFC 3966) for a stored number, "" when it is not E.164."""
    return f"tel:{e164}" if _stored(e164) is not None else ""


def whatsapp_url(e164: str) -> str:
    """The wa.me link of a stored number (digits only, no +), "" when it is not E.164."""
    return f"https://wa.me/{e164[1:]}" if _stored(e164) is not None else ""


def _stored(e164: str) -> phonenumbers.PhoneNumber | None:
    if not e164 or not re.fullmatch(r"\+[1-9][0-9]{1,14}", e164):
        return None
    try:
        return phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
