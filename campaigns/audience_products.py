"""Audience criteria on what contacts bought (campaigns.audience builds on these):

    bought_product_ids      bought at least one of these products (customers.Product ids)
    bought_categories       bought at least one product in one of these categories
    bought_within_days      ... within the last N days (both of the above; blank: ever)
    not_bought_categories   never bought a product in any of these categories

Only counted lines count (purchase not refunded, line not refunded in full). Each criterion is
one EXISTS on purchase lines correlated on the contact (line_product_purchase_idx and the
purchase's contact index serve them); set ones are combined with AND, like every criterion.
"""
import datetime as dt

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from customers.bought.selectors import counted_lines
from customers.models import Product

BOUGHT_MAX_DAYS = 3650
CATEGORY_MAX_LENGTH: int = Product._meta.get_field("category").max_length or 255
FIELDS = ("bought_product_ids", "bought_categories", "bought_within_days",
          "not_bought_categories")


def parse_product_ids(name: str, value: object, errors) -> tuple[int, ...] | None:
    if (not isinstance(value, list) or not value
            or any(not isinstance(i, int) or isinstance(i, bool) or i < 1 for i in value)):
        errors.add(name, _("Enter a non-empty list of product ids."), "invalid_product_ids")
        return None
    return tuple(dict.fromkeys(value))


def parse_categories(name: str, value: object, errors) -> tuple[str, ...] | None:
    if (not isinstance(value, list) or not value
            or any(not isinstance(c, str) or not c.strip() or len(c.strip()) > CATEGORY_MAX_LENGTH
                   for c in value)):
        errors.add(name, _("Enter a non-empty list of category names."), "invalid_categories")
        return None
    return tuple(dict.fromkeys(c.strip() for c in value))


def parse_days(name: str, value: object, errors) -> int | None:
    if (not isinstance(value, int) or isinstance(value, bool)
            or not 1 <= value <= BOUGHT_MAX_DAYS):
        errors.add(name, _("Enter a number of days from 1 to %(max)d.") % {
            "max": BOUGHT_MAX_DAYS}, "invalid_window")
        return None
    return value


PARSERS = {"bought_product_ids": parse_product_ids, "bought_categories": parse_categories,
           "bought_within_days": parse_days, "not_bought_categories": parse_categories}


def check(data: dict, errors) -> None:
    """A window belongs to "bought": it needs products or categories to look for."""
    if data.get("bought_within_days") is not None and not (
            data.get("bought_product_ids") or data.get("bought_categories")):
        errors.add("bought_within_days", _("Choose the products or categories bought too."),
                   "needs_bought")


def _lines(criteria, now: dt.datetime) -> QuerySet:
    lines = counted_lines().filter(purchase__contact=OuterRef("pk"))
    if criteria.bought_within_days is not None:
        since = now - dt.timedelta(days=criteria.bought_within_days)
        lines = lines.filter(purchase__purchased_at__gte=since)
    return lines


def products_q(criteria, now: dt.datetime) -> Q:
    """The set product criteria as one Q on Contact."""
    q = Q()
    if criteria.bought_product_ids is not None:
        q &= Q(Exists(_lines(criteria, now).filter(product_id__in=criteria.bought_product_ids)))
    if criteria.bought_categories is not None:
        q &= Q(Exists(_lines(criteria, now).filter(
            product__category__in=criteria.bought_categories)))
    if criteria.not_bought_categories is not None:
        q &= ~Q(Exists(counted_lines().filter(
            purchase__contact=OuterRef("pk"),
            product__category__in=criteria.not_bought_categories)))
    return q


def reasons(criteria) -> list[str]:
    """Why every contact of the sample is in, for the product criteria (the same for all)."""
    found = []
    window = ""
    if criteria.bought_within_days is not None:
        window = " " + ngettext("in the last %(days)d day", "in the last %(days)d days",
                                criteria.bought_within_days) % {
            "days": criteria.bought_within_days}
    if criteria.bought_product_ids is not None:
        names = Product.objects.filter(pk__in=criteria.bought_product_ids).order_by("name")
        found.append(_("bought %(products)s") % {
            "products": ", ".join(str(p) for p in names[:3])} + window)
    if criteria.bought_categories is not None:
        found.append(_("bought in %(categories)s") % {
            "categories": ", ".join(criteria.bought_categories)} + window)
    if criteria.not_bought_categories is not None:
        found.append(_("never bought in %(categories)s") % {
            "categories": ", ".join(criteria.not_bought_categories)})
    return found
