"""What the customers admin pages share: adopting a service's row, its errors, search terms."""
from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Model
from django.utils.text import smart_split, unescape_string_literal


def adopt(obj: Model, pk: int) -> None:
    """Make the admin's unsaved form object the row a service saved, for the admin's log."""
    obj.pk = pk
    obj._state.adding = False
    obj.refresh_from_db()


def add_service_errors(form: forms.BaseForm, error: ValidationError) -> None:
    """Show a service's ValidationError on the form: on its field, else above the form."""
    for field, field_messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, field_messages)


def search_terms(search_term: str) -> list[str]:
    """The words of an admin search, a quoted phrase counting as one word."""
    terms = []
    for term in smart_split(search_term):
        if term[:1] in "\"'" and term[-1:] == term[:1] and len(term) > 1:
            term = unescape_string_literal(term)
        if term.strip():
            terms.append(term.strip())
    return terms
