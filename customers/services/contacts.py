"""Contacts: create, update, consent and owner; every door calls these."""
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User

from ..consent.models import ConsentMethod, ConsentWording
from ..consent.services import consent_record
from ..models import Contact
from ..normalise import normalise_email
from ..owners import owner_validate
from ..phones import normalise_phone


CONTACT_EDITABLE_FIELDS = frozenset({"email", "first_name", "last_name", "phone", "owner",
                                     "language"})


def contact_create(
    *, email: str, first_name: str = "", last_name: str = "", phone: str = "",
    owner: User | None = None, marketing_consent: bool = False, consent_source: str = "",
    language: str = "", consent_method: str = ConsentMethod.STAFF_FORM,
    consent_wording: ConsentWording | None = None, consent_evidence: str = "",
    recorded_by: User | None = None,
) -> Contact:
    """A new contact; with marketing_consent, its consent is recorded in the ledger too."""
    email = normalise_email(email)
    if Contact.objects.filter(email=email).exists():
        raise ValidationError({"email": ValidationError(
            gettext("A contact with this email already exists."), code="unique")})
    owner_validate(owner)
    contact = Contact(
        email=email, first_name=first_name.strip(), last_name=last_name.strip(),
        phone=_phone(phone), owner=owner, language=language,
    )
    contact.full_clean()
    with transaction.atomic():
        contact.save()
        if marketing_consent:
            consent_record(contact=contact, given=True, method=consent_method,
                           source=consent_source, wording=consent_wording,
                           evidence=consent_evidence, recorded_by=recorded_by)
    return contact


def contact_get_or_create(*, email: str, first_name: str = "", last_name: str = "",
                          language: str = "") -> Contact:
    """The contact with this email; the names and language are stored only on a new one."""
    email = normalise_email(email)
    contact, _created = Contact.objects.get_or_create(
        email=email, defaults={"first_name": first_name.strip(), "last_name": last_name.strip(),
                               "language": language}
    )
    return contact


def contact_update(*, contact: Contact, **changes: Any) -> Contact:
    """Change personal fields and owner; consent goes through contact_set_consent."""
    unknown = set(changes) - CONTACT_EDITABLE_FIELDS
    if unknown:
        raise TypeError(f"contact_update cannot change {sorted(unknown)}")
    # Only a new owner is checked: one who has since left the roles stays while other fields
    # change (customers.owners.owner_choices offers them for that reason).
    if "owner" in changes and _pk(changes["owner"]) != contact.owner_id:
        owner_validate(changes["owner"])
    # A number stored before E.164 and sent back unchanged stays as it is (pages show it).
    if "phone" in changes and changes["phone"] != contact.phone:
        changes["phone"] = _phone(changes["phone"])
    for field, value in changes.items():
        setattr(contact, field, value.strip() if isinstance(value, str) else value)
    contact.full_clean()
    contact.save()
    return contact


def contact_set_consent(
    *, contact: Contact, consent: bool, source: str, method: str = ConsentMethod.STAFF_FORM,
    wording: ConsentWording | None = None, evidence: str = "", recorded_by: User | None = None,
    language: str = "",
) -> Contact:
    """Give or withdraw consent: customers.consent.services.consent_record holds the rule and
    the ledger."""
    consent_record(contact=contact, given=consent, method=method, source=source,
                   wording=wording, evidence=evidence, recorded_by=recorded_by,
                   language=language)
    return contact


def contacts_assign_owner(*, contacts: QuerySet[Contact], owner: User | None) -> int:
    """Give the contacts to `owner` (None: nobody); an ineligible owner is a ValidationError."""
    owner_validate(owner)
    return contacts.update(owner=owner, updated_at=timezone.now())


def _phone(text: str) -> str:
    """customers.phones' rule at the service, so every door stores the same E.164 value (the
    doors' forms check it first, to show the error beside the field)."""
    try:
        return normalise_phone(text)
    except ValidationError as error:
        raise ValidationError({"phone": error.error_list}) from None


def _pk(user: User | None) -> int | None:
    return None if user is None else user.pk
