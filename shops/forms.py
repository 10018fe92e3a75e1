"""The store form: built from the platform's CredentialField list (shops.platforms.base).

Secret fields are password inputs that never show the stored value; left blank when a store
is changed, they keep it (shops.services.stores.store_update). The store's address must be
https (plain http only where CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES, for local fakes) and must not
point into a private network, as shops.http refuses such addresses before every request.
"""
import socket
from urllib.parse import urlsplit

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _

from webhooks.addresses import BlockedAddress, resolve_public

from .http import allow_private_addresses
from .models import KEY_MAX_LENGTH, Store
from .platforms.base import Platform

KEEP_HELP = _("Leave blank to keep the stored value.")


def validate_store_address(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme != "https" and not allow_private_addresses():
        raise forms.ValidationError(
            _("Enter an https:// address: the store's API sends personal data."),
            code="https_required")
    if allow_private_addresses() or not parts.hostname:
        return
    try:
        resolve_public(parts.hostname, parts.port)
    except BlockedAddress:
        raise forms.ValidationError(
            _("This address points into a private network (or at this server itself); "
              "the CRM connects only to stores at public addresses."),
            code="private_address") from None
    except (socket.gaierror, UnicodeError, ValueError):
        raise forms.ValidationError(_("This host name could not be found."),
                                    code="unknown_host") from None


class StoreForm(forms.Form):
    """Name, key (new stores only), address, the platform's credentials and, where the
    platform has its own, the webhook secret."""

    name = forms.CharField(label=_("Name"), max_length=100,
                           help_text=_("As your team calls the store, e.g. \"Web shop\"."))
    key = forms.SlugField(
        label=_("Key"), max_length=KEY_MAX_LENGTH,
        help_text=_("A short name for this store in lowercase letters, digits and hyphens, "
                    "never changed: its orders and products are kept under it."))
    base_url = forms.URLField(
        label=_("Store address"), max_length=255, assume_scheme="https",
        help_text=_("The shop's own address, e.g. https://shop.example.com."))

    def __init__(self, *args, platform: Platform, store: Store | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.platform = platform
        self.store = store
        if store is not None:
            del self.fields["key"]
        for field in platform.credential_fields:
            self.fields[f"credential_{field.name}"] = self._credential_field(field)
        if not platform.webhook_secret_generated:
            self.fields["webhook_secret"] = self._secret_field(
                label=_("Webhook secret"), required=True,
                help_text=_("The secret the store signs its webhooks with (see the set-up "
                            "steps for where to find it)."))

    def _credential_field(self, field) -> forms.Field:
        if field.secret:
            return self._secret_field(label=field.label, required=field.required,
                                      help_text=field.help_text)
        return forms.CharField(label=field.label, required=field.required,
                               help_text=field.help_text, max_length=500)

    def _secret_field(self, *, label, required: bool, help_text) -> forms.Field:
        # Changing a store: blank keeps the stored secret, so none is required.
        changing = self.store is not None
        help_parts = [str(part) for part in (help_text, KEEP_HELP if changing else "") if part]
        return forms.CharField(
            label=label, required=required and not changing, strip=True,
            widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
            help_text=" ".join(help_parts), validators=[MaxLengthValidator(2000)])

    def clean_key(self) -> str:
        key = self.cleaned_data["key"].lower()
        if Store.objects.filter(key=key).exists():
            raise forms.ValidationError(
                _("Another store already has the key \"%(key)s\": choose another."),
                code="key_taken", params={"key": key})
        return key

    def clean_base_url(self) -> str:
        url = self.cleaned_data["base_url"].rstrip("/")
        validate_store_address(url)
        return url

    def credentials(self) -> dict[str, str]:
        return {field.name: self.cleaned_data.get(f"credential_{field.name}", "")
                for field in self.platform.credential_fields}

    def webhook_secret(self) -> str:
        return self.cleaned_data.get("webhook_secret", "")
