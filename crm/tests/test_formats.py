"""Dates and times in sentences: English on a 24-hour clock, so a sentence that ends in a
time ("Scored 12/07/2026 08:00.") never ends in "a.m.."; Turkish as Django writes it."""
import datetime as dt

import pytest
from django.template import Context, Template
from django.utils import translation

MORNING = dt.datetime(2026, 12, 7, 8, 0)


@pytest.mark.parametrize("language", ["en", "tr"])
def test_a_sentence_ending_in_a_time_has_one_full_stop(language):
    template = Template('{% load i18n %}{% blocktranslate with when=at|date:"SHORT_DATETIME_FORMAT" %}'
                        'Scored {{ when }}.{% endblocktranslate %}')
    with translation.override(language):
        text = template.render(Context({"at": MORNING}))
    assert "08:00" in text and ".." not in text
    if language == "en":
        assert text == "Scored 12/07/2026 08:00."
