from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EventType, WebhookEndpoint


class WebhookEndpointForm(forms.ModelForm):
    """The events as check boxes rather than raw JSON."""

    url = forms.URLField(label=_("URL"), max_length=500, assume_scheme="https")
    events = forms.MultipleChoiceField(label=_("events"), choices=EventType.choices,
                                       widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = WebhookEndpoint
        fields = ("name", "url", "events", "is_active")
