"""The contact list's export, for a person opening it in a spreadsheet: headers in their
language, stage and consent in words, the owner's name, money with its currency and
percentages written as the list writes them, dates in their locale.

The machine-readable export (column names such as p_buy_again, plain numbers) stays with
customers.scoring.export for the export_contacts command. Cells still go through crm.csv_safe
(crm.admin_tools.csv_response): a name typed as a formula stays text.
"""
from collections.abc import Iterable, Iterator

from django.contrib.auth import get_user_model
from django.utils import formats, timezone
from django.utils.text import capfirst
from django.utils.translation import gettext

from crm.admin_tools import EXPORT_CHUNK_SIZE
from crm.numbers import percent
from crm.shop import shop
from customers.models import Contact, Stage
from customers.owners import owner_label
from customers.templatetags.money import money

_PATHS = ("email", "first_name", "last_name", "phone", "stage", "marketing_consent",
          "owner_id", "purchase_count", "first_purchase_at", "last_purchase_at", "total_spent",
          "current_score__p_buy_again", "current_score__p_alive")


def export_header() -> list[str]:
    names = [capfirst(Contact._meta.get_field(name).verbose_name)
             for name in ("email", "first_name", "last_name", "phone")]
    return [*names, gettext("Stage"), gettext("Marketing consent"), gettext("Owner"),
            gettext("Purchases"), gettext("First purchase"), gettext("Last purchase"),
            gettext("Total spent"), gettext("Likely to buy again"),
            gettext("Likely still active")]


def _day(value) -> str:
    if value is None:
        return ""
    return formats.date_format(timezone.localtime(value), "SHORT_DATE_FORMAT")


def _share(value) -> str:
    return "" if value is None else percent(value)


def export_rows(contacts) -> Iterator[list[object]]:
    """One row per contact of `contacts` (a contact_list queryset, in its order)."""
    currency = shop().base_currency
    owners = _owner_names()
    yes, no = gettext("Yes"), gettext("No")
    stages = {value: str(label) for value, label in Stage.choices}
    values = contacts.values_list(*_PATHS)
    for (email, first, last, phone, stage, consent, owner_id, count, first_at, last_at, spent,
         p_buy, p_alive) in values.iterator(chunk_size=EXPORT_CHUNK_SIZE):
        yield [email, first, last, phone, stages.get(stage, stage), yes if consent else no,
               owners.get(owner_id, ""), count, _day(first_at), _day(last_at),
               money(spent, currency), _share(p_buy), _share(p_alive)]


def _owner_names() -> dict[int, str]:
    """Every user's name as the lists show it (staff are few: one query for the file)."""
    users: Iterable = get_user_model().objects.all()
    return {user.pk: owner_label(user) for user in users}
