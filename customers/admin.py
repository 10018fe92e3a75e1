from django.contrib import admin

from .models import Contact, CurrencyRate, Purchase

admin.site.register(Contact)
admin.site.register(Purchase)
admin.site.register(CurrencyRate)
