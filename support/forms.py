from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Case, Priority


class CaseForm(forms.Form):
    subject = forms.CharField(label=_("Subject"), max_length=200)
    description = forms.CharField(label=_("Description"), required=False, max_length=10_000,
                                  widget=forms.Textarea(attrs={"rows": 2}))
    channel = forms.ChoiceField(label=_("Channel"), choices=Case.Channel.choices,
                                initial=Case.Channel.PHONE)
    priority = forms.ChoiceField(label=_("Priority"), choices=Priority.choices,
                                 initial=Priority.NORMAL)


class ReplyForm(forms.Form):
    body = forms.CharField(label=_("Your reply"), max_length=10_000,
                           widget=forms.Textarea(attrs={"rows": 6}))
