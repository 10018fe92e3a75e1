from zoneinfo import available_timezones

from babel import Locale, UnknownLocaleError
from babel.dates import get_day_names
from babel.numbers import get_currency_name
from django import forms
from django.conf import settings
from django.utils.translation import get_language, to_locale
from django.utils.translation import gettext_lazy as _

from .shop import CURRENCIES, ENVIRONMENT, FIELDS


def _currency_choices() -> list[tuple[str, str]]:
    try:
        locale = Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    return [(code, f"{code} · {get_currency_name(code, locale=locale)}")
            for code in sorted(CURRENCIES)]


class ShopSettingsForm(forms.Form):
    """The shop settings page. Fields the environment sets are shown, read-only: the service
    (crm.shop.shop_settings_save) keeps their effective values whatever is posted."""

    name = forms.CharField(label=_("Shop name"), max_length=200)
    base_currency = forms.ChoiceField(
        label=_("Base currency"),
        help_text=_("Revenue is converted to it and shown in it. It cannot change once "
                    "purchases are stored."))
    time_zone = forms.ChoiceField(
        label=_("Time zone"),
        help_text=_("Purchase days and schedules follow it. It cannot change once purchases "
                    "are stored."))
    default_language = forms.ChoiceField(
        label=_("Default language"),
        help_text=_("Emails to contacts without a language of their own are in it."))
    sender_name = forms.CharField(label=_("Sender name"), max_length=200, required=False)
    sender_email = forms.EmailField(label=_("Sender email"),
                                    help_text=_("The From address of the shop's emails."))

    def __init__(self, *args, set_by_deployment=frozenset(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["base_currency"].choices = _currency_choices()
        self.fields["time_zone"].choices = [(zone, zone) for zone in sorted(available_timezones())]
        self.fields["default_language"].choices = list(settings.LANGUAGES)
        for name in FIELDS:
            if name in set_by_deployment:
                field = self.fields[name]
                field.disabled = True
                field.help_text = _("Set by the deployment (%(variable)s): change it there.") % {
                    "variable": ENVIRONMENT[name]}


def _day_choices() -> list[tuple[str, str]]:
    try:
        locale = Locale.parse(to_locale(get_language() or "en"))
    except (UnknownLocaleError, ValueError):
        locale = Locale.parse("en")
    names = get_day_names("wide", locale=locale)  # 0 is Monday; cron's 1 is Monday, 0 Sunday
    return [("*", _("Every day")), ("1-5", _("Weekdays (Monday to Friday)")),
            *[(str((index + 1) % 7), names[index]) for index in range(7)]]


class ScheduleTimeForm(forms.Form):
    """When a scheduled job runs, in the shop's time zone."""

    day_of_week = forms.ChoiceField(label=_("Days"))
    time = forms.TimeField(label=_("Time"), input_formats=["%H:%M"],
                           widget=forms.TimeInput(format="%H:%M", attrs={"type": "time"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["day_of_week"].choices = _day_choices()
