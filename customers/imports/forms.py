from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import ImportJob, Purchase
from ..normalise import AUTO, DAY_FIRST, MONTH_FIRST


class ImportUploadForm(forms.Form):
    """The upload: the checks on the file itself are customers.imports.jobs'."""

    kind = forms.ChoiceField(label=_("What the file contains"), choices=ImportJob.Kind.choices)
    file = forms.FileField(label=_("CSV file (UTF-8)"))
    lines_file = forms.FileField(
        label=_("Lines file (optional)"), required=False,
        help_text=_("Purchases only: the orders' lines as a CSV file of their own (external_id "
                    "or order_id, sku, product, category, quantity, unit_price, discount); the "
                    "file above then holds one row per order, amount optional."))
    source = forms.CharField(
        label=_("Source"), initial="csv", required=False,
        max_length=Purchase._meta.get_field("source").max_length,
        help_text=_("Purchases only: recorded as the purchases' source. Re-importing a file "
                    "with the same source adds nothing."))
    skip_invalid = forms.BooleanField(
        label=_("Import the valid rows even if some rows have errors"), required=False,
        initial=True)
    date_order = forms.ChoiceField(
        label=_("Dates like 05.12.2026"), initial=AUTO, required=False, choices=[
            (AUTO, _("Tell from the file and the shop's language")),
            (DAY_FIRST, _("Day first (05.12.2026 = 5 December)")),
            (MONTH_FIRST, _("Month first (05.12.2026 = May 12)"))],
        help_text=_("Purchases only. ISO dates (2026-12-05) and Excel date numbers read the "
                    "same either way."))
    historical = forms.BooleanField(
        label=_("Historical load (past orders: send and announce nothing)"), required=False,
        help_text=_("Purchases only. Purchases, redeemed coupons, referrals and scores are "
                    "recorded; no event campaign, webhook or referral reward fires."))
