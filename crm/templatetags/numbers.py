"""{% load numbers %}: {{ share|percent }} ("%3" in Turkish), {{ share|percent:1 }},
{{ value|percent_points }} for a value already in percent (holdout_percent)."""
from django import template

from crm import numbers

register = template.Library()


@register.filter
def percent(value, digits=0) -> str:
    if value in (None, ""):
        return "—"
    return numbers.percent(value, int(digits))


@register.filter
def percent_points(value, digits=0) -> str:
    if value in (None, ""):
        return "—"
    return numbers.percent_points(value, int(digits))
