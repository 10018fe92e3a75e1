"""Currency rates in the admin: one row per currency other than the base currency."""
from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from ..models import CurrencyRate
from ..money import base_currency, normalise_currency


class CurrencyRateAdminForm(forms.ModelForm):
    class Meta:
        model = CurrencyRate
        fields = ("currency", "rate")

    def clean_currency(self) -> str:
        code = normalise_currency(self.cleaned_data["currency"])
        if code == base_currency():
            raise ValidationError(
                _("%(code)s is the base currency: its rate is always 1 and needs no row."),
                params={"code": code},
            )
        return code

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate is not None and rate <= 0:
            raise ValidationError(_("The rate must be greater than zero."))
        return rate


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    form = CurrencyRateAdminForm
    list_display = ("currency", "rate", "updated_at")
    search_fields = ("currency",)
