"""The registry of personal data: every app declares the tables that hold a person's data,
which of their columns to export and how to erase them.

`privacy/` walks this registry for a data-subject request (export, erasure), so it imports no
app's models; a test walks every installed model and fails when one that can hold a person's
data is in no section and in no commented exemption list. A new model is therefore one
declaration away from being exported and erased, and cannot be forgotten.

crm/ is the bottom layer: this module knows no app. Apps register their sections from
`AppConfig.ready()` (`register(*SECTIONS)`, like `admin.site.register`), each in its own
`<app>/personal_data.py`.

Erasure keeps anonymous figures (purchases, outbox rows, scores, case timings) and removes
every identifying column and free text:
- `Delete`: the rows go (notes, website events...).
- `Replace`: the rows stay, the named columns get fixed values (an outbox row's address).
- `Keep`: the rows stay as they are; every text column is listed in `kept` with the reason.
- `Custom`: an app's own function for data that is not a plain column (import previews).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

# (header, lookup): the header names the JSON key and the CSV column; the lookup is an ORM
# path ("campaign__name") or an expression (Coalesce(...)) evaluated by QuerySet.values().
Column = tuple[str, Any]


@dataclass(frozen=True)
class Person:
    """Whose data: the contact (locked during erasure) and its address before erasure.

    Tables keyed by address (the suppression list, import previews) use `email`; `erased_email`
    is the placeholder that replaces it ("" for an export).
    """

    contact: Any  # customers.Contact (crm sits below customers)
    email: str
    erased_email: str = ""


@dataclass(frozen=True)
class Delete:
    """The rows go: nothing in them is a figure anyone needs once the person is gone."""

    verb = "deleted"


@dataclass(frozen=True)
class Replace:
    """The rows stay (figures count them); each named column gets its value.

    A value may be a callable taking the Person (the contact's placeholder address). `stamp`
    names a column set to now() on the rows that change (updated_at: integrations' "changed
    since" feeds must see the erasure). Rows already holding the values are left alone, so a
    second erasure changes nothing and counts 0.
    """

    values: Mapping[str, Any]
    stamp: str = ""
    verb = "blanked"


@dataclass(frozen=True)
class Keep:
    """The rows stay unchanged: no column identifies the person (list text columns in `kept`)."""

    verb = ""


@dataclass(frozen=True)
class Custom:
    """An app's own eraser, for data that is not a plain column; returns how many it removed.

    `fields` names the columns it cleans (the completeness test checks them like Replace's).
    """

    function: Callable[[Person], int]
    fields: tuple[str, ...]
    verb = "deleted"


Eraser = Delete | Replace | Keep | Custom


@dataclass(frozen=True)
class Section:
    """One kind of record about a person: one model, the person's rows of it, export, erasure.

    `by` is the lookup from the model to the contact ("contact", "referrer", "pk"); a section
    whose rows are found another way (by address) gives `rows` instead. `columns` are exported
    (empty: not exported; say why where the section is declared); `one` exports a single object
    or null instead of a list. `kept` lists the model's text columns that erasure leaves as they
    are because they never identify anyone (choice columns need not be listed).
    """

    name: str
    model: type[models.Model]
    erase: Eraser
    by: str = ""
    rows: Callable[[Person], QuerySet] | None = None
    columns: tuple[Column, ...] = ()
    one: bool = False
    kept: tuple[str, ...] = ()
    count_key: str = ""
    order_by: tuple[str, ...] = ("pk",)

    def __post_init__(self) -> None:
        if bool(self.by) == (self.rows is not None):
            raise ImproperlyConfigured(f"personal data section {self.name!r}: give `by` or "
                                       f"`rows`, not both")

    def queryset(self, person: Person) -> QuerySet:
        """The person's rows of this section's model."""
        if self.rows is not None:
            return self.rows(person)
        return self.model._default_manager.filter(**{self.by: person.contact.pk})

    @property
    def exported(self) -> bool:
        return bool(self.columns)

    @property
    def counted_as(self) -> str:
        """The key of this section's count in the erasure's audit entry ("" = not counted)."""
        if self.count_key or not self.erase.verb:
            return self.count_key
        return f"{self.name}_{self.erase.verb}"

    def export_rows(self, person: Person) -> list[dict]:
        """The exported columns of the person's rows, raw values (Decimal, datetime...)."""
        queryset = self.queryset(person).order_by(*self.order_by).values(**self._aliases())
        return [{header: row[alias] for header, alias in self._headers()} for row in queryset]

    def column_fields(self) -> dict[str, models.Field]:
        """Each exported column's model field (its type: amounts, dates...)."""
        query = self.model._default_manager.values(**self._aliases()).query
        return {header: query.annotations[alias].output_field
                for header, alias in self._headers()}

    def _headers(self) -> list[tuple[str, str]]:
        # Aliases, not the headers: values(id=F("id")) would clash with the model's field.
        return [(header, f"pd{index}_") for index, (header, _lookup) in enumerate(self.columns)]

    def _aliases(self) -> dict[str, Any]:
        return {f"pd{index}_": _expression(lookup)
                for index, (_header, lookup) in enumerate(self.columns)}

    def erase_rows(self, person: Person) -> int:
        """Apply this section's erasure to the person's rows; the number of rows changed."""
        eraser = self.erase
        if isinstance(eraser, Delete):
            return self.queryset(person).delete()[0]
        if isinstance(eraser, Replace):
            values = {name: value(person) if callable(value) else value
                      for name, value in eraser.values.items()}
            stamp = {eraser.stamp: timezone.now()} if eraser.stamp else {}
            return self.queryset(person).filter(~Q(**values)).update(**values, **stamp)
        if isinstance(eraser, Custom):
            return eraser.function(person)
        return 0

    def erased_fields(self) -> frozenset[str]:
        """The columns erasure empties or replaces (every column when the rows are deleted)."""
        eraser = self.erase
        if isinstance(eraser, Delete):
            return frozenset(f.name for f in self.model._meta.concrete_fields)
        if isinstance(eraser, Replace):
            return frozenset(eraser.values)
        if isinstance(eraser, Custom):
            return frozenset(eraser.fields)
        return frozenset()


def _expression(lookup: Any) -> Any:
    return models.F(lookup) if isinstance(lookup, str) else lookup


@dataclass
class _Registry:
    sections: dict[str, Section] = field(default_factory=dict)

    def register(self, *sections: Section) -> None:
        for section in sections:
            known = self.sections.get(section.name)
            if known is not None and known != section:
                raise ImproperlyConfigured(
                    f"two personal data sections are named {section.name!r}")
            self.sections[section.name] = section


_registry = _Registry()


def register(*sections: Section) -> None:
    """Declare sections (from an AppConfig.ready()); registering the same one again is a no-op."""
    _registry.register(*sections)


def sections() -> list[Section]:
    """Every registered section, in registration order (INSTALLED_APPS order)."""
    return list(_registry.sections.values())


def section(name: str) -> Section:
    return _registry.sections[name]
