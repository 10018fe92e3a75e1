import datetime as dt

from crispy_forms.helper import FormHelper
from crispy_forms.layout import Submit
from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from crm.shop import shop

from .consent.models import ConsentMethod
from .models import CHANNEL_LABEL_MAX_LENGTH, CallOutcome, Channel, ChannelMapping, Contact
from .normalise import normalise_email
from .owners import OWNER_REFUSED, owner_choices, owner_label
from .phones import normalise_phone

# What staff can record consent as: what they witnessed, or what reached them.
STAFF_CONSENT_METHODS = (ConsentMethod.STAFF_FORM, ConsentMethod.PUBLIC_FORM,
                         ConsentMethod.REQUEST)


class ContactForm(forms.ModelForm):
    marketing_consent = forms.BooleanField(
        label=_("Agrees to receive marketing email"), required=False
    )
    # Consent needs evidence (GDPR art. 7(1), KVKK): how it was given, and a short note.
    # The wording recorded is the current one in the contact's language.
    consent_method = forms.ChoiceField(
        label=_("How was consent given?"), required=False,
        choices=[("", "---------"), *[(m.value, m.label) for m in STAFF_CONSENT_METHODS]],
    )
    consent_evidence = forms.CharField(
        label=_("Evidence"), required=False, max_length=200,
        help_text=_("E.g. checkbox on the checkout page, order 1234. No personal data."),
    )

    class Meta:
        model = Contact
        fields = ["email", "first_name", "last_name", "phone", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Save contact")))

    def clean_email(self) -> str:
        return normalise_email(self.cleaned_data["email"])

    def clean_phone(self) -> str:
        return normalise_phone(self.cleaned_data["phone"])

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("marketing_consent") and not cleaned.get("consent_method"):
            self.add_error("consent_method", _("Say how the contact gave consent."))
        return cleaned

    def _post_clean(self) -> None:
        # Uniqueness and constraints are checked by the service; skip the model's checks here.
        pass


class AsciiDigitsMixin:
    """Numbers typed with the digits 0-9 only. Django reads "١٢" (Arabic-Indic digits) or
    "１２" (fullwidth) as 12, since int() and Decimal() accept every script's digits; the API
    and the CSV import refuse them, and so does the dashboard: a value is what it looks like."""

    default_error_messages = {
        "not_ascii": _("Write the number with the digits 0-9."),
    }

    def to_python(self, value):
        if isinstance(value, str) and (not value.isascii() or "_" in value):  # "1_000"
            raise ValidationError(self.error_messages["not_ascii"], code="not_ascii")
        return super().to_python(value)


class AsciiDecimalField(AsciiDigitsMixin, forms.DecimalField):
    pass


class AsciiIntegerField(AsciiDigitsMixin, forms.IntegerField):
    pass


class ChannelLabelInput(forms.TextInput):
    """A text input offering the labels the mapping knows (a <datalist>) while typing."""

    def __init__(self, attrs=None):
        super().__init__({"list": "channel-labels", "maxlength": CHANNEL_LABEL_MAX_LENGTH,
                          "autocomplete": "off", **(attrs or {})})

    def render(self, name, value, attrs=None, renderer=None):
        labels = sorted({*Channel.values, *ChannelMapping.objects.exclude(channel="")
                         .values_list("label", flat=True)}, key=str.casefold)
        options = format_html_join("", '<option value="{}"></option>',
                                   ((label,) for label in labels))
        return super().render(name, value, attrs, renderer) + format_html(
            '<datalist id="{}">{}</datalist>', self.attrs["list"], options)


class PurchaseForm(forms.Form):
    """The short form sales staff use all day: amount, currency, when (defaults to now)."""

    amount = AsciiDecimalField(
        label=_("Amount"), min_value=0, max_digits=14, decimal_places=3, required=False,
        help_text=_("Leave it blank to take what the products below add up to."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal", "autofocus": True}),
    )
    currency = forms.CharField(label=_("Currency"), max_length=3, min_length=3)
    purchased_at = forms.DateTimeField(
        label=_("Date and time"),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    # The shop's own label (customers.channels): any text, suggested from the mapping.
    channel = forms.CharField(
        label=_("Channel"), initial=Channel.STORE, required=False,
        help_text=_("Your own name for it (such as store, web, app or Trendyol)."),
        widget=ChannelLabelInput())
    quantity = AsciiIntegerField(label=_("Items"), min_value=1, max_value=100000, initial=1)
    code = forms.CharField(label=_("Coupon or referral code"), max_length=64, required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("currency", shop().base_currency)
        kwargs["initial"].setdefault(
            "purchased_at", timezone.localtime().replace(second=0, microsecond=0)
        )
        super().__init__(*args, **kwargs)
        self.helper = FormHelper()
        self.helper.add_input(Submit("submit", _("Record purchase")))

    def clean_currency(self) -> str:
        return self.cleaned_data["currency"].strip().upper()

    def add_service_errors(self, error: ValidationError) -> None:
        """Show a service's per-field errors on the form's own fields."""
        for field, messages in error.message_dict.items():
            self.add_error(field if field in self.fields else None, messages)


class NoteForm(forms.Form):
    body = forms.CharField(label=_("Note"), max_length=4000,
                           widget=forms.Textarea(attrs={"rows": 3}))


class FollowUpForm(forms.Form):
    title = forms.CharField(label=_("What to do"), max_length=200)
    due_on = forms.DateField(label=_("Due"), widget=forms.DateInput(attrs={"type": "date"}))
    # Optional: without a time the task is due all day (its reminder comes in the morning).
    due_time = forms.TimeField(label=_("Time"), required=False,
                               widget=forms.TimeInput(attrs={"type": "time"}))
    # Who does it: the current user unless another is chosen (customers.followups checks).
    assigned_to = forms.ModelChoiceField(label=_("For"), required=False, queryset=None,
                                         empty_label=None)

    def __init__(self, *args, user=None, **kwargs):
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("due_on", timezone.localdate() + dt.timedelta(days=1))
        if user is not None:
            kwargs["initial"].setdefault("assigned_to", user.pk)
        super().__init__(*args, **kwargs)
        field = self.fields["assigned_to"]
        field.queryset = owner_choices(current=user.pk if user is not None else None)
        field.label_from_instance = owner_label

    @cached_property
    def assignee_options(self) -> list:
        """The assignee menu's (value, label) pairs, read in one query (a template's for loop
        or list() over the field's choices would count them first; a generator is not)."""
        return list(iter(self.fields["assigned_to"].choices))


class CallLogForm(forms.Form):
    """A logged call: the outcome is the button pressed; the note and next date are optional."""

    outcome = forms.ChoiceField(label=_("How did the call go?"), choices=CallOutcome.choices)
    note = forms.CharField(label=_("Note"), max_length=4000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))
    follow_up_on = forms.DateField(label=_("Next follow-up"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    follow_up_time = forms.TimeField(label=_("Time"), required=False,
                                     widget=forms.TimeInput(attrs={"type": "time"}))


class ContactEditForm(ContactForm):
    """The contact's details, owner and consent, for staff who may change contacts. Consent
    changes go to the consent ledger with the method, the evidence and the current wording."""

    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=None,
                                   empty_label=_("Nobody"),
                                   error_messages={"invalid_choice": OWNER_REFUSED})

    class Meta(ContactForm.Meta):
        fields = ["email", "first_name", "last_name", "phone", "language"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = owner_choices(current=self.instance.owner_id)
        self.fields["owner"].label_from_instance = owner_label
        self.fields["owner"].initial = self.instance.owner_id
        self.fields["marketing_consent"].initial = self.instance.marketing_consent
        self.helper.inputs.clear()
        self.helper.add_input(Submit("submit", _("Save changes")))

    def clean(self) -> dict:
        cleaned = forms.ModelForm.clean(self)
        giving = cleaned.get("marketing_consent") and not self.instance.marketing_consent
        if giving and not cleaned.get("consent_method"):
            self.add_error("consent_method", _("Say how the contact gave consent."))
        return cleaned


class OwnerForm(forms.Form):
    # The choices and the refusal are customers.owners' rule; the service checks it again.
    owner = forms.ModelChoiceField(label=_("Owner"), required=False, queryset=None,
                                   empty_label=_("Nobody"),
                                   error_messages={"invalid_choice": OWNER_REFUSED})

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The contact page passes the current owner as initial: one who has left the roles is
        # still shown as the owner rather than as "Nobody".
        self.fields["owner"].queryset = owner_choices(current=self.initial.get("owner"))
        self.fields["owner"].label_from_instance = owner_label


class PurchaseLineForm(forms.Form):
    """One product on the record-purchase page; a blank row is no line."""

    product = forms.CharField(label=_("Product"), max_length=255, required=False)
    sku = forms.CharField(label=_("SKU"), max_length=128, required=False)
    quantity = AsciiDecimalField(label=_("Quantity"), required=False, min_value=0,
                                 max_digits=12, decimal_places=3,
                                 widget=forms.NumberInput(attrs={"step": "any"}))
    unit_price = AsciiDecimalField(label=_("Unit price"), required=False, min_value=0,
                                   max_digits=14, decimal_places=3,
                                   widget=forms.NumberInput(attrs={"step": "0.01"}))

    def line(self) -> dict | None:
        """The line for the purchase service (its rules check it), or None for a blank row."""
        data = getattr(self, "cleaned_data", None) or {}
        if not any(data.get(key) not in (None, "") for key in
                   ("product", "sku", "quantity", "unit_price")):
            return None
        return {"name": data.get("product", ""), "sku": data.get("sku", ""),
                "quantity": data.get("quantity") if data.get("quantity") is not None else 1,
                "unit_price": data.get("unit_price")}


PurchaseLineFormSet = forms.formset_factory(PurchaseLineForm, extra=3, max_num=50,
                                            validate_max=True)
