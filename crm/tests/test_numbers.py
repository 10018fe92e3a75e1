"""Percentages and numbers as the reader's language writes them: "3%" in English, "%3" in
Turkish, with the locale's separators."""
from decimal import Decimal

import pytest
from django.template import Context, Template
from django.utils import translation

from crm.numbers import number, percent, percent_points, percent_range


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ["3%", "12.5%", "100%", "0%", "—"]),
    ("tr", ["%3", "%12,5", "%100", "%0", "—"]),
])
def test_percent_puts_the_sign_where_the_language_does(language, expected):
    with translation.override(language):
        assert [percent(0.03), percent(0.125, 1), percent(1), percent(0.0),
                percent(None)] == expected


def test_percent_rounds_as_python_formatting_does():
    assert [percent(v) for v in (0.125, 0.425, Decimal("0.035"), 0.999)] == \
        [f"{v:.0%}" for v in (0.125, 0.425, 0.035, 0.999)] == ["12%", "42%", "4%", "100%"]


@pytest.mark.parametrize(("language", "expected"), [
    ("en", ("1,234.5", "1,234,567", "12.5%", "10–20%")),
    ("tr", ("1.234,5", "1.234.567", "%12,5", "%10–20")),
])
def test_numbers_use_the_locale_separators(language, expected):
    with translation.override(language):
        assert (number(1234.5, 1), number(1234567), percent_points(12.5, 1),
                percent_range(10, 20)) == expected


def test_template_filters_follow_the_active_language():
    template = Template("{% load numbers %}{{ share|percent }} {{ points|percent_points }} "
                        "{{ missing|percent }}")
    context = Context({"share": Decimal("0.03"), "points": 15, "missing": None})
    with translation.override("tr"):
        assert template.render(context) == "%3 %15 —"
    with translation.override("en"):
        assert template.render(context) == "3% 15% —"
