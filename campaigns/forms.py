"""The campaign form: audience criteria as plain fields, stored as Campaign.audience JSON."""
import copy

from django import forms
from django.conf import settings
from django.forms.models import construct_instance
from django.utils.translation import gettext_lazy as _

from accounts.roles import SALES_STAFF
from accounts.models import User
from activity.models import EventKind
from customers.models import Product, Stage

from .campaign_service import SURVEY_FIXED_FIELDS, SURVEY_FIXED_MESSAGE, campaign_problems
from .models import Campaign
from .template_needs import is_survey_campaign

# Form field -> criteria key; bands are entered in percent for people, stored as 0..1.
_PERCENT_FIELDS = ("p_buy_again_min", "p_buy_again_max", "p_alive_min", "p_alive_max")
_NUMBER_FIELDS = ("days_since_first_min", "days_since_first_max", "days_since_last_min",
                  "days_since_last_max", "purchase_count_min", "purchase_count_max",
                  "clicked_within_days", "no_click_after_emails")
_MONEY_FIELDS = ("total_spent_min", "total_spent_max")
# Audience criteria whose form field has another name.
_AUDIENCE_FIELD = {"owner_ids": "owners", "bought_product_ids": "bought_products"}
_CRITERION = {field: key for key, field in _AUDIENCE_FIELD.items()}
_CATEGORY_FIELDS = ("bought_categories", "not_bought_categories")


def _percent(label):
    return forms.DecimalField(label=label, required=False, min_value=0, max_value=100,
                              decimal_places=1)


class CampaignForm(forms.ModelForm):
    stages = forms.MultipleChoiceField(label=_("Lifecycle stages"), choices=Stage.choices,
                                       required=False, widget=forms.CheckboxSelectMultiple)
    at_risk = forms.BooleanField(label=_("Only repeat clients at risk"), required=False)
    nps_promoter = forms.BooleanField(
        label=_("Only promoters (answered 9 or 10 in their latest survey)"), required=False)
    nps_detractor = forms.ChoiceField(label=_("Unhappy survey answer (0-6)"), required=False,
                                      choices=[("", _("Any")), ("yes", _("Only them")),
                                               ("no", _("Leave them out"))])
    open_case = forms.ChoiceField(label=_("Open support case"), required=False,
                                  choices=[("", _("Any")), ("yes", _("Only them")),
                                           ("no", _("Leave them out"))])
    p_buy_again_min = _percent(_("Likelihood to buy again at least (%)"))
    p_buy_again_max = _percent(_("Likelihood to buy again at most (%)"))
    p_alive_min = _percent(_("Still active at least (%)"))
    p_alive_max = _percent(_("Still active at most (%)"))
    days_since_first_min = forms.IntegerField(label=_("Days since first purchase, at least"),
                                              required=False, min_value=0)
    days_since_first_max = forms.IntegerField(label=_("Days since first purchase, at most"),
                                              required=False, min_value=0)
    days_since_last_min = forms.IntegerField(label=_("Days since last purchase, at least"),
                                             required=False, min_value=0)
    days_since_last_max = forms.IntegerField(label=_("Days since last purchase, at most"),
                                             required=False, min_value=0)
    total_spent_min = forms.DecimalField(label=_("Total spent at least"), required=False,
                                         min_value=0, decimal_places=2)
    total_spent_max = forms.DecimalField(label=_("Total spent at most"), required=False,
                                         min_value=0, decimal_places=2)
    purchase_count_min = forms.IntegerField(label=_("Purchases at least"), required=False,
                                            min_value=0)
    purchase_count_max = forms.IntegerField(label=_("Purchases at most"), required=False,
                                            min_value=0)
    website_action = forms.ChoiceField(
        label=_("Did this on the website"), required=False,
        choices=[("", _("Any")), *EventKind.choices])
    website_action_days = forms.IntegerField(label=_("... within the last (days)"),
                                             required=False, min_value=1, max_value=730)
    website_action_no_purchase_since = forms.BooleanField(
        label=_("... and has not purchased since"), required=False)
    bought_products = forms.ModelMultipleChoiceField(
        label=_("Bought one of these products"), required=False,
        queryset=Product.objects.order_by("name", "sku"))
    bought_categories = forms.MultipleChoiceField(
        label=_("Bought in one of these categories"), required=False, choices=[])
    bought_within_days = forms.IntegerField(
        label=_("... within the last (days)"), required=False, min_value=1, max_value=3650,
        help_text=_("For the products and categories bought; blank: ever."))
    not_bought_categories = forms.MultipleChoiceField(
        label=_("Never bought in these categories"), required=False, choices=[])
    clicked_within_days = forms.IntegerField(
        label=_("Clicked a link in our emails within the last (days)"), required=False,
        min_value=1, max_value=730)
    no_click_after_emails = forms.IntegerField(
        label=_("Got at least this many of our emails and clicked none"), required=False,
        min_value=1, max_value=1000)
    listed_only = forms.BooleanField(
        label=_("Only contacts added by hand (from the contact list)"), required=False)
    owners = forms.ModelMultipleChoiceField(
        label=_("Owners"), required=False,
        queryset=User.objects.filter(groups__name=SALES_STAFF).order_by("username"))

    class Meta:
        model = Campaign
        fields = ["name", "kind", "template", "is_active", "trigger", "event",
                  "event_purchase_number", "event_kind", "delay_days", "holdout_percent",
                  "uplift_window_days", "coupon_kind", "coupon_value", "coupon_valid_days"]

    audience_fields = ("stages", "at_risk", "nps_promoter", "nps_detractor", "open_case",
                       *_PERCENT_FIELDS, *_NUMBER_FIELDS, *_MONEY_FIELDS,
                       "website_action", "website_action_days",
                       "website_action_no_purchase_since", "bought_products",
                       "bought_categories", "bought_within_days", "not_bought_categories",
                       "owners", "listed_only")

    # Shown disabled on the survey campaign; campaign_service refuses changes to them.
    survey_fixed_fields = SURVEY_FIXED_FIELDS

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._category_choices(self.instance.audience or {})
        if self.instance.pk:
            self._load_audience(self.instance.audience or {})
        self.is_survey = bool(self.instance.pk) and is_survey_campaign(self.instance)
        if self.is_survey:
            for name in self.survey_fixed_fields:
                if name in self.fields:
                    self.fields[name].disabled = True
                    self.fields[name].help_text = SURVEY_FIXED_MESSAGE

    def _category_choices(self, audience: dict) -> None:
        """The catalogue's categories, and any the stored audience names that it lost."""
        known = set(Product.objects.exclude(category="").values_list("category", flat=True)
                    .distinct())
        for name in _CATEGORY_FIELDS:
            known |= set(audience.get(name) or ())
        for name in _CATEGORY_FIELDS:
            self.fields[name].choices = [(c, c) for c in sorted(known)]

    def _load_audience(self, audience: dict) -> None:
        for name in self.audience_fields:
            key = _CRITERION.get(name, name)
            if key not in audience or audience[key] is None:
                continue
            value = audience[key]
            if name in ("nps_detractor", "open_case"):
                value = "yes" if value else "no"
            if name in _PERCENT_FIELDS:
                value = round(float(value) * 100, 1)
            self.initial[name] = value

    def clean(self):
        data = super().clean()
        self.cleaned_audience = self._audience_json(data)
        # The rules are the service's (campaigns.campaign_service), checked on the campaign as
        # it would be saved; the model's own field checks follow in ModelForm._post_clean.
        candidate = copy.copy(self.instance)
        construct_instance(self, candidate, self._meta.fields)
        candidate.audience = self.cleaned_audience
        for key, messages in campaign_problems(candidate).items():
            field = _AUDIENCE_FIELD.get(key, key)
            if field not in self.fields:
                self.add_error(None, messages)
            elif field not in self.errors:  # an invalid value is reported once, as such
                self.add_error(field, messages)
        return data

    def _audience_json(self, data: dict) -> dict:
        audience: dict = {}
        if data.get("stages"):
            audience["stages"] = list(data["stages"])
        if data.get("at_risk"):
            audience["at_risk"] = True
        if data.get("nps_promoter"):
            audience["nps_promoter"] = True
        for name in ("nps_detractor", "open_case"):
            if data.get(name):
                audience[name] = data[name] == "yes"
        for name in _PERCENT_FIELDS:
            if data.get(name) is not None:
                audience[name] = float(data[name]) / 100
        for name in _NUMBER_FIELDS:
            if data.get(name) is not None:
                audience[name] = int(data[name])
        for name in _MONEY_FIELDS:
            if data.get(name) is not None:
                audience[name] = str(data[name])
        if data.get("website_action"):
            audience["website_action"] = data["website_action"]
        if data.get("website_action_days") is not None:
            audience["website_action_days"] = int(data["website_action_days"])
        if data.get("website_action_no_purchase_since"):
            audience["website_action_no_purchase_since"] = True
        if data.get("bought_products"):
            audience["bought_product_ids"] = sorted(p.pk for p in data["bought_products"])
        for name in _CATEGORY_FIELDS:
            if data.get(name):
                audience[name] = list(data[name])
        if data.get("bought_within_days") is not None:
            audience["bought_within_days"] = int(data["bought_within_days"])
        if data.get("owners"):
            audience["owner_ids"] = [user.pk for user in data["owners"]]
        if data.get("listed_only"):
            audience["listed_only"] = True
        return audience

    def save(self, commit: bool = True):
        self.instance.audience = self.cleaned_audience
        return super().save(commit=commit)


class PreviewForm(forms.Form):
    contact_email = forms.EmailField(label=_("Preview for the contact with this email"))
    language = forms.ChoiceField(
        label=_("Language"), required=False,
        choices=[("", _("The contact's language")), *settings.LANGUAGES])
