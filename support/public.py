"""The public support form: customers open a case without an account.

Spam resistance without third-party captchas: a hidden honeypot field, a signed render time
(humans take more than a couple of seconds; bots post at once or replay old forms) and a
per-address rate limit in the cache (shared through Redis in production).
"""
import time

from django import forms
from django.core import signing
from django.core.cache import cache
from django.utils.translation import gettext_lazy as _

MIN_SECONDS = 2
MAX_AGE_SECONDS = 2 * 60 * 60
LIMIT_PER_HOUR = 5
_SALT = "support.public-form"


class PublicCaseForm(forms.Form):
    email = forms.EmailField(label=_("Your email"), max_length=254)
    name = forms.CharField(label=_("Your name (optional)"), max_length=150, required=False)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    message = forms.CharField(label=_("How can we help?"), max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 5}))
    # Left empty by people (hidden from them); filled by bots that fill every field.
    website = forms.CharField(required=False, widget=forms.TextInput(
        attrs={"autocomplete": "off", "tabindex": "-1"}))
    # Not required: a missing value is an expired form (clean), with a message people see.
    started = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["started"] = signing.dumps(time.time(), salt=_SALT)

    def restart_clock(self) -> None:
        """Shown again after a refusal, the form keeps what was typed and gets a fresh render
        time, so that pressing Send again works (an expired form would expire forever)."""
        if self._errors is None:  # judged on what was sent, before the clock is replaced
            self.full_clean()
        self.data = self.data.copy()
        self.data["started"] = signing.dumps(time.time(), salt=_SALT)

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise forms.ValidationError(_("Your message could not be sent."), code="bot")
        try:
            started = signing.loads(data.get("started", ""), salt=_SALT, max_age=MAX_AGE_SECONDS)
        except signing.BadSignature:
            raise forms.ValidationError(_("This form has expired: please send it again."),
                                        code="expired") from None
        if time.time() - float(started) < MIN_SECONDS:
            raise forms.ValidationError(
                _("That was quicker than anyone can type, so your message was not sent. Please "
                  "check it and press Send again."), code="too_fast")
        return data


def rate_limited(address: str) -> bool:
    """True once an address has sent LIMIT_PER_HOUR messages within the hour."""
    key = f"support-form:{address}"
    cache.add(key, 0, timeout=3600)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=3600)
        count = 1
    return count > LIMIT_PER_HOUR
