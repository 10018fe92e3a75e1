"""Currency rates in the admin: rates per currency and day, from the daily feed
(customers.rates_feed) or entered by hand, and how the last fetch went."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.utils.translation import gettext as _

from ..models import RATES_FROM, CurrencyRate, RateFetch
from ..money import base_currency, normalise_currency
from ..services.rates import MAX_RATE_AGE_DAYS, rate_record


class CurrencyRateAdminForm(forms.ModelForm):
    class Meta:
        model = CurrencyRate
        fields = ("currency", "day", "rate")

    def clean_currency(self) -> str:
        code = normalise_currency(self.cleaned_data["currency"])
        if code == base_currency():
            raise ValidationError(
                _("%(code)s is the base currency: its rate is always 1 and needs no row."),
                params={"code": code},
            )
        return code

    def clean_day(self):
        # Left empty: the rate holds from the start, for every earlier purchase too.
        return self.cleaned_data.get("day") or RATES_FROM

    def clean(self):
        cleaned = super().clean()
        currency, day = cleaned.get("currency"), cleaned.get("day")
        if currency and day and CurrencyRate.objects.filter(
                currency=currency, day=day).exclude(pk=self.instance.pk).exists():
            self.add_error("currency", _("%(code)s already has a rate for %(day)s: change that "
                                         "one.") % {"code": currency, "day": day})
        return cleaned

    def clean_rate(self):
        rate = self.cleaned_data["rate"]
        if rate is not None and rate <= 0:
            raise ValidationError(_("The rate must be greater than zero."))
        return rate


@admin.register(CurrencyRate)
class CurrencyRateAdmin(admin.ModelAdmin):
    form = CurrencyRateAdminForm
    list_display = ("currency", "day", "rate", "source", "updated_at")
    list_filter = ("source", "currency")
    search_fields = ("currency",)
    date_hierarchy = "day"
    change_list_template = "admin/customers/currencyrate/change_list.html"

    def save_model(self, request, obj, form, change):
        # A rate entered here is the manager's: it holds until a newer rate is recorded.
        obj.source = CurrencyRate.Source.MANUAL
        recorded = rate_record(rate=obj)
        if recorded.converted:
            self.message_user(request, _("%(count)d purchase(s) waiting for this rate were "
                                         "converted.") % {"count": recorded.converted})
        if recorded.reconverted:
            self.message_user(request, _("%(count)d purchase(s) now take this rate: their "
                                         "amounts in the base currency were recomputed.")
                              % {"count": recorded.reconverted})

    def get_urls(self):
        fetch_now = self.admin_site.admin_view(self.fetch_now_view)
        return [path("fetch-now/", fetch_now, name="customers_currencyrate_fetch_now"),
                *super().get_urls()]

    def fetch_now_view(self, request: HttpRequest):
        """Queue the daily fetch now (a new shop need not wait for the evening run)."""
        from ..tasks import fetch_rates_task

        changelist = reverse("admin:customers_currencyrate_changelist")
        if request.method != "POST" or not request.user.has_perm("customers.add_currencyrate"):
            return HttpResponseRedirect(changelist)
        transaction.on_commit(fetch_rates_task.delay)
        self.message_user(request, _("Fetching the exchange rates: the outcome appears here "
                                     "when a worker has run it."), messages.SUCCESS)
        return HttpResponseRedirect(changelist)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}), "last_fetch": RateFetch.objects.first(),
                         "max_rate_age_days": MAX_RATE_AGE_DAYS}
        return super().changelist_view(request, extra_context=extra_context)
