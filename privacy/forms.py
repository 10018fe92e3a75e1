from django import forms
from django.utils.translation import gettext_lazy as _


class EraseConfirmForm(forms.Form):
    """Typing the address is the confirmation: a stray click cannot erase anyone."""

    confirm_email = forms.CharField(
        label=_("Type the contact's email address to confirm"), max_length=254, strip=True)

    def __init__(self, *args, expected_email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.expected_email = expected_email

    def clean_confirm_email(self) -> str:
        value = self.cleaned_data["confirm_email"]
        if value.lower() != self.expected_email.lower():
            raise forms.ValidationError(_("The address does not match this contact's email."))
        return value
