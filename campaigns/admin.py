"""Managers' campaign tools: templates with preview and test send, campaigns with a dry run of
their audience, start, progress per run and measured uplift; the outbox and codes read-only."""
from csp.constants import NONE, SELF, UNSAFE_INLINE
from csp.decorators import csp
from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.fields import BLANK_CHOICE_DASH
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.clickjacking import xframe_options_sameorigin

from accounts.roles import is_manager
from crm.admin_tools import ReadOnlyAdminMixin
from customers.models import Contact, Stage
from customers.normalise import normalise_email

from .admin_variants import (
    VARIANT_INLINES, campaign_test_figures, inlines_posted, variant_formset_save,
)
from .audience import AudienceCriteria, audience_sample, audience_size
from .campaign_service import EDITABLE_FIELDS, campaign_create, campaign_update
from .forms import CampaignForm, PreviewForm
from .measurement import campaign_clicks, campaign_progress, campaign_uplift, journey_funnel
from .models import (
    Campaign,
    CampaignRun,
    Coupon,
    EmailServiceEvent,
    EmailTemplate,
    EmailTemplateTranslation,
    JourneyEnrollment,
    JourneyStep,
    Message,
    Referral,
    ReferralCode,
    Suppression,
)
from .outbox import reason_label
from .outbox_actions import messages_send_again
from .preview import template_preview, template_send_test
from .services import campaign_run_plan, campaign_run_start
from .suppression import address_suppress_by_staff


# The email's HTML as its own document: no script at all, sandboxed into an opaque origin (no
# cookies, no access to the admin page), framed only by our own pages; the inline styles and
# remote images an email is made of are allowed, since the preview must look like the email.
EMAIL_PREVIEW_POLICY = {
    "default-src": [NONE],
    "style-src": [UNSAFE_INLINE],
    "img-src": ["https:", "data:"],
    "font-src": ["https:", "data:"],
    "base-uri": [NONE],
    "form-action": [NONE],
    "frame-ancestors": [SELF],
    "sandbox": True,
}


class TranslationForm(forms.ModelForm):
    class Meta:
        model = EmailTemplateTranslation
        fields = ("language", "subject", "body_text", "body_html")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The template itself is the default language: offer only the others.
        self.fields["language"].choices = [
            *BLANK_CHOICE_DASH,
            *[(code, name) for code, name in settings.LANGUAGES
              if code != settings.LANGUAGE_CODE]]
        # The template check is EmailTemplateTranslation.clean(), run by full_clean().


class EmailTemplateTranslationInline(admin.StackedInline):
    model = EmailTemplateTranslation
    form = TranslationForm
    extra = 0


# The template editor's "What a template can show" box: what campaigns.rendering gives.
TEMPLATE_VARIABLES = [
    (("contact.first_name", "contact.last_name", "contact.full_name", "contact.email"),
     gettext_lazy("The contact.")),
    (("last_purchase.purchased_at", "last_purchase.amount", "last_purchase.currency"),
     gettext_lazy("Their latest purchase that was not refunded, or nothing.")),
    (("coupon.code", "coupon.value", "coupon.kind", "coupon.expires_at"),
     gettext_lazy("Only in campaigns that give a coupon.")),
    (("referral_code",), gettext_lazy("Only in referral campaigns.")),
    (("usual_products",), gettext_lazy(
        "Up to 3 products the contact bought in the most purchases (refunded ones left out), "
        "each with a name and a category.")),
    (("also_bought",), gettext_lazy(
        "Up to 3 products that other customers bought with the contact's usual or last "
        "products, never one the contact has bought (computed every night).")),
    (("reorder_product.name", "reorder_product.category"), gettext_lazy(
        "The product it is time to reorder: only in campaigns started by “Time to reorder a "
        "product”.")),
    (("unsubscribe_url",), gettext_lazy("The contact's unsubscribe link.")),
]
TEMPLATE_EXAMPLE = "{% for product in usual_products %}{{ product.name }}{% endfor %}"


def _language_choice(value: str | None) -> str | None:
    """A language the shop offers, from a preview request; None = the contact's own."""
    return value if value in dict(settings.LANGUAGES) else None


@admin.register(EmailTemplate)
class EmailTemplateAdmin(admin.ModelAdmin):
    list_display = ("name", "subject", "updated_at")
    search_fields = ("name", "subject")
    inlines = [EmailTemplateTranslationInline]
    change_form_template = "admin/campaigns/emailtemplate/change_form.html"

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/preview/", view(self.preview_view), name="campaigns_template_preview"),
            path("<int:pk>/preview/html/", view(self.preview_html_view),
                 name="campaigns_template_preview_html"),
            path("<int:pk>/send-test/", view(self.send_test_view),
                 name="campaigns_template_send_test"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, *args, **kwargs):
        context.update(template_variables=TEMPLATE_VARIABLES, template_example=TEMPLATE_EXAMPLE)
        return super().render_change_form(request, context, *args, **kwargs)

    def preview_view(self, request: HttpRequest, pk: int):
        template = get_object_or_404(EmailTemplate, pk=pk)
        if not self.has_view_permission(request, template):
            return HttpResponseRedirect(reverse("admin:index"))
        form = PreviewForm(request.GET or None)
        language = _language_choice(request.GET.get("language"))
        contact = rendered = error = None
        if form.is_valid():
            contact = Contact.objects.filter(email=form.cleaned_data["contact_email"]).first()
            if contact is None:
                form.add_error("contact_email", _("No contact has this email."))
        else:
            contact = Contact.objects.filter(purchase_count__gt=0).order_by("-id").first()
        if contact is not None:
            try:
                rendered = template_preview(template, contact, language=language)
            except ValidationError as problem:
                error = " ".join(problem.messages)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "original": template, "form": form, "contact": contact,
                   "rendered": rendered, "error": error, "language": language or "",
                   "title": _("Preview: %(name)s") % {"name": template.name}}
        return TemplateResponse(request, "admin/campaigns/emailtemplate/preview.html", context)

    @csp(EMAIL_PREVIEW_POLICY)
    @xframe_options_sameorigin
    def preview_html_view(self, request: HttpRequest, pk: int):
        """The HTML part alone, for the preview page's sandboxed iframe (src, not srcdoc: a
        srcdoc frame inherits the admin page's policy, which blocks the inline styles emails are
        written with, so it would not show the email as sent)."""
        template = get_object_or_404(EmailTemplate, pk=pk)
        if not self.has_view_permission(request, template):
            raise PermissionDenied
        contact_id = request.GET.get("contact", "")
        if not contact_id.isdigit():
            raise Http404
        contact = get_object_or_404(Contact, pk=contact_id)
        try:
            rendered = template_preview(template, contact,
                                        language=_language_choice(request.GET.get("language")))
        except ValidationError as problem:
            return HttpResponse(" ".join(problem.messages), content_type="text/plain")
        return HttpResponse(rendered.html, content_type="text/html; charset=utf-8")

    def send_test_view(self, request: HttpRequest, pk: int):
        template = get_object_or_404(EmailTemplate, pk=pk)
        back = reverse("admin:campaigns_template_preview", args=[pk])
        if request.method != "POST" or not self.has_view_permission(request, template):
            return HttpResponseRedirect(back)
        if not request.user.email:
            self.message_user(request, _("Your account has no email address to send to."),
                              messages.ERROR)
            return HttpResponseRedirect(back)
        contact = Contact.objects.filter(pk=request.POST.get("contact")).first()
        try:
            template_send_test(template, contact, to_email=request.user.email,
                               language=_language_choice(request.POST.get("language")))
        except (ValidationError, OSError) as problem:
            self.message_user(request, _("The test was not sent: %(error)s") % {
                "error": problem}, messages.ERROR)
        else:
            self.message_user(request, _("Test sent to %(email)s.") % {
                "email": request.user.email}, messages.SUCCESS)
        return HttpResponseRedirect(back)


class CampaignRunInline(admin.TabularInline):
    model = CampaignRun
    extra = 0
    can_delete = False
    fields = ("started_at", "status", "key", "started_by", "progress", "finished_at", "error")
    readonly_fields = fields
    ordering = ["-started_at"]
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, run: CampaignRun) -> str:
        return _progress_text(campaign_progress(run))


def _progress_text(counts: dict) -> str:
    labels = dict(Message.Status.choices)
    return ", ".join(f"{labels.get(status, status)}: {count}"
                     for status, count in counts.items() if count) or "–"


def _outcomes(counts: dict) -> list[tuple[str, str, int]]:
    """The final results staff look for, always shown, zero included: (key, label, count).
    `failed` is failed for good: after its last retry, or refused outright; nothing retries
    it."""
    labels = {Message.Status.SENT: gettext_lazy("Sent"),
              Message.Status.BOUNCED: gettext_lazy("Bounced"),
              Message.Status.UNKNOWN: gettext_lazy("Unknown (may have arrived)"),
              Message.Status.FAILED: gettext_lazy("Failed for good (no more retries)")}
    return [(status, labels[status], counts.get(status, 0)) for status in labels]


def _funnel_figures(campaign: Campaign) -> dict:
    """A journey's funnel for its page (campaigns.measurement.journey_funnel), labelled."""
    funnel = journey_funnel(campaign)
    if funnel is None:
        return {"funnel": None}
    labels = dict(JourneyEnrollment.Status.choices)
    return {
        "funnel": funnel,
        "funnel_steps": [(step, [(labels.get(status, status), count)
                                 for status, count in step.left.items()])
                         for step in funnel.steps],
        "funnel_statuses": [(label, funnel.by_status.get(status, 0))
                            for status, label in labels.items()],
    }


def _warn_if_sending_stopped(request: HttpRequest) -> None:
    """Campaign and run pages say so when nothing is being sent (campaigns.outbox.checks)."""
    from django.utils.html import format_html

    from .dkim import broken_reason
    from .sending_pause import active_pause, pause_text

    pause = active_pause()
    if pause is not None:
        text = pause_text(pause)
    elif broken_reason():
        text = _("Sending is stopped: DKIM signing is configured but its key cannot be used. "
                 "Nothing is sent unsigned.")
    else:
        return
    messages.warning(request, format_html('{} <a href="{}">{}</a>', text,
                                          reverse("campaigns:deliverability"),
                                          _("Deliverability")))


class JourneyStepForm(forms.ModelForm):
    """One step of a journey; the model's clean() refuses a step that cannot do its work."""

    stages = forms.MultipleChoiceField(
        label=gettext_lazy("stages"), choices=Stage.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=gettext_lazy("For “Is at one of these stages”."))

    class Meta:
        model = JourneyStep
        fields = ("position", "kind", "template", "wait_days", "condition", "negate", "stages")


class JourneyStepFormSet(BaseInlineFormSet):
    """A campaign form posted without the steps' part (a script written before journeys)
    leaves the steps as they are, instead of being refused as tampered with."""

    def __init__(self, data=None, *args, prefix=None, **kwargs):
        name = prefix or self.get_default_prefix()
        if data is not None and f"{name}-TOTAL_FORMS" not in data:
            data = data.copy()
            data.update({f"{name}-TOTAL_FORMS": "0", f"{name}-INITIAL_FORMS": "0"})
        super().__init__(data, *args, prefix=prefix, **kwargs)


class JourneyStepInline(admin.TabularInline):
    """A campaign with steps is a journey (campaigns.journeys): each contact goes through
    them in position order. A removed step is skipped by contacts not past it yet."""

    model = JourneyStep
    form = JourneyStepForm
    formset = JourneyStepFormSet
    extra = 0
    ordering = ["position"]
    verbose_name_plural = gettext_lazy("journey steps (a campaign with steps is a journey)")


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    form = CampaignForm
    list_display = ("name", "kind", "trigger", "is_active", "template", "updated_at")
    list_filter = ("kind", "trigger", "is_active")
    search_fields = ("name",)
    inlines = [JourneyStepInline, CampaignRunInline, *VARIANT_INLINES]
    change_form_template = "admin/campaigns/campaign/change_form.html"
    fieldsets = [
        (None, {"fields": ["name", "kind", "template", "is_active"]}),
        (gettext_lazy("Audience"), {"fields": list(CampaignForm.audience_fields)}),
        (gettext_lazy("When"), {"fields": ["trigger", "event", "event_purchase_number",
                                           "event_kind", "delay_days"]}),
        (gettext_lazy("Offer"), {"fields": ["coupon_kind", "coupon_value",
                                            "coupon_valid_days"]}),
        (gettext_lazy("Measuring"), {"fields": ["holdout_percent", "uplift_window_days"]}),
    ]

    def save_model(self, request, obj, form, change):
        # The form checked the rules (campaign_service.campaign_problems); the service checks
        # them again, saves and keeps the schedule in step, as for every other caller.
        fields = {name: getattr(obj, name) for name in EDITABLE_FIELDS}
        if change:
            campaign_update(obj, **fields)
            return
        saved = campaign_create(created_by=request.user, **fields)
        for field in Campaign._meta.concrete_fields:  # the admin goes on with its own object
            setattr(obj, field.attname, getattr(saved, field.attname))
        obj._state.adding = False

    def get_inline_instances(self, request, obj=None):
        return inlines_posted(request, super().get_inline_instances(request, obj), obj)

    def save_formset(self, request, form, formset, change):
        if not variant_formset_save(formset):  # the test's rows go through campaigns.variants
            super().save_formset(request, form, formset, change)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [path("<int:pk>/start/", view(self.start_view), name="campaigns_campaign_start"),
                *super().get_urls()]

    def changelist_view(self, request, extra_context=None):
        _warn_if_sending_stopped(request)
        return super().changelist_view(request, extra_context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            _warn_if_sending_stopped(request)
        campaign = self.get_object(request, object_id)
        extra = extra_context or {}
        if campaign is not None:
            extra.update(self._campaign_figures(campaign))
            if is_manager(request.user):  # the subject tests are the managers'
                extra["variant_tests"] = campaign_test_figures(campaign)
        return super().change_view(request, object_id, form_url, extra_context=extra)

    def _campaign_figures(self, campaign: Campaign) -> dict:
        try:
            criteria = AudienceCriteria.for_campaign(campaign)
        except ValidationError as problem:
            return {"audience_error": " ".join(problem.messages)}
        counts = campaign_progress(campaign)
        return {
            "audience_size": audience_size(criteria),
            "audience_sample": audience_sample(criteria, size=15),
            "uplift": campaign_uplift(campaign),
            "clicks": campaign_clicks(campaign),
            "progress": _progress_text(counts),
            "outcomes": _outcomes(counts),
            **_funnel_figures(campaign),
        }

    def start_view(self, request: HttpRequest, pk: int):
        """"Start a run now": a GET (or a POST without `confirm`) shows how many contacts the
        run would email and hold out, from the same dry run the run itself uses; the
        confirmation's POST (CSRF-checked by the admin) starts it."""
        campaign = get_object_or_404(Campaign, pk=pk)
        back = reverse("admin:campaigns_campaign_change", args=[pk])
        if not self.has_change_permission(request, campaign):
            return HttpResponseRedirect(back)
        if request.method != "POST" or "confirm" not in request.POST:
            return self._start_confirmation(request, campaign)
        try:
            run = campaign_run_start(campaign=campaign, started_by=request.user)
        except ValidationError as problem:  # the campaign changed since the confirmation
            self.message_user(request, " ".join(problem.messages), messages.ERROR)
            return HttpResponseRedirect(back)
        if run is None:
            self.message_user(request, _("This run was started already."), messages.WARNING)
        elif campaign.steps.exists():  # a journey: the audience entered it, its steps send
            entered = JourneyEnrollment.objects.filter(campaign=campaign, key=f"run:{run.pk}")
            self.message_user(request, _(
                "Started: %(entered)d contacts entered the journey, %(held)d of them held out "
                "to measure uplift.") % {"entered": entered.count(),
                                         "held": entered.filter(held_out=True).count()},
                messages.SUCCESS)
        else:
            queued = run.messages.filter(status=Message.Status.QUEUED).count()
            held = run.messages.filter(status=Message.Status.HELD_OUT).count()
            self.message_user(request, _("Started: %(queued)d emails queued, %(held)d contacts "
                                         "held out to measure uplift.") % {
                "queued": queued, "held": held}, messages.SUCCESS)
            if waiting := run.messages.filter(status=Message.Status.WAITING).count():
                self.message_user(request, ngettext(
                    "%(count)d more waits for the subject test's winner.",
                    "%(count)d more wait for the subject test's winner.", waiting) % {
                    "count": waiting}, messages.INFO)
        return HttpResponseRedirect(back)

    def _start_confirmation(self, request: HttpRequest, campaign: Campaign) -> TemplateResponse:
        try:
            plan, error = campaign_run_plan(campaign), ""
        except ValidationError as problem:  # criteria or template the campaign cannot run with
            plan, error = None, " ".join(problem.messages)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta,
                   "original": campaign, "plan": plan, "audience_error": error,
                   "title": _("Start a run of %(name)s?") % {"name": campaign.name}}
        return TemplateResponse(request, "admin/campaigns/campaign/start_confirm.html", context)


@admin.register(CampaignRun)
class CampaignRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("campaign", "started_at", "status", "progress", "finished_at")
    list_filter = ("status", "campaign")
    date_hierarchy = "started_at"
    list_select_related = ("campaign",)

    @admin.display(description=gettext_lazy("progress"))
    def progress(self, run: CampaignRun) -> str:
        return _progress_text(campaign_progress(run))

    def changelist_view(self, request, extra_context=None):
        _warn_if_sending_stopped(request)
        return super().changelist_view(request, extra_context)


@admin.register(Message)
class MessageAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "campaign", "to_email", "status", "attempts", "sent_at",
                    "reason")
    list_filter = ("status", "campaign")
    search_fields = ("to_email", "message_id", "provider_message_id")
    list_select_related = ("campaign",)
    raw_id_fields = ("run", "contact", "coupon")
    show_full_result_count = False
    actions = ["requeue_unknown"]

    @admin.display(description=gettext_lazy("reason or server reply"))
    def reason(self, message: Message) -> str:
        return reason_label(message.last_error) if message.last_error else ""

    @admin.action(description=gettext_lazy("Send again (only 'unknown' ones; same Message-ID)"),
                  permissions=["view"])
    def requeue_unknown(self, request: HttpRequest, queryset) -> None:
        if not request.user.has_perm("campaigns.change_message"):
            self.message_user(request, _("You may not resend messages."), messages.ERROR)
            return
        result = messages_send_again(list(queryset.values_list("pk", flat=True)),
                                     by=request.user)
        if not result.requeued:
            self.message_user(request, _("None of the selected messages is 'unknown': nothing "
                                         "was sent again."), messages.WARNING)
            return
        text = ngettext("%(count)d unknown message queued to be sent again with its "
                        "Message-ID.", "%(count)d unknown messages queued to be sent again "
                        "with their Message-ID.", result.requeued) % {"count": result.requeued}
        if result.runs_reopened:
            text += " " + ngettext("%(count)d finished run reopened; it closes again once they "
                                   "are sent.", "%(count)d finished runs reopened; they close "
                                   "again once the messages are sent.",
                                   result.runs_reopened) % {"count": result.runs_reopened}
        self.message_user(request, text, messages.SUCCESS)


@admin.register(JourneyEnrollment)
class JourneyEnrollmentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who is in which journey, at which step, and how they left. Not deleted here: the
    journey's outbox rows (and so its measured uplift) go with an enrollment."""

    deletable = False
    list_display = ("campaign", "contact", "status", "held_out", "next_position", "next_at",
                    "started_at", "ended_at")
    list_filter = ("status", "held_out", "campaign")
    search_fields = ("contact__email",)
    list_select_related = ("campaign", "contact")
    raw_id_fields = ("contact",)
    date_hierarchy = "started_at"
    show_full_result_count = False


@admin.register(EmailServiceEvent)
class EmailServiceEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What the email service reported by webhook, and what each event did (a skipped one:
    about an email the CRM did not send)."""

    list_display = ("received_at", "service", "event_type", "recipient", "outcome", "message")
    list_filter = ("outcome", "service", "event_type")
    search_fields = ("recipient", "provider_message_id", "event_id")
    raw_id_fields = ("message",)
    show_full_result_count = False


class SuppressionForm(forms.ModelForm):
    class Meta:
        model = Suppression
        fields = ("email", "reason", "detail")

    def clean_email(self) -> str:
        # Normalised before the unique check, so `Bob@Example.com` is found as a duplicate of
        # bob@example.com rather than saved beside it.
        return normalise_email(self.cleaned_data["email"])


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    form = SuppressionForm
    list_display = ("email", "reason", "created_at")
    list_filter = ("reason",)
    search_fields = ("email",)

    def get_readonly_fields(self, request, obj=None):
        # Changing a saved address would quietly lift its suppression: add a new one instead.
        return ("email",) if obj is not None else ()

    def save_model(self, request, obj, form, change):
        if change:  # the reason or the detail
            super().save_model(request, obj, form, change)
            return
        saved = address_suppress_by_staff(email=obj.email, reason=obj.reason,
                                          detail=obj.detail, recorded_by=request.user)
        obj.pk, obj.created_at = saved.pk, saved.created_at


@admin.register(Coupon)
class CouponAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "contact", "campaign", "purpose", "kind", "value", "expires_at",
                    "redeemed_at")
    list_filter = ("purpose", "kind", "campaign")
    search_fields = ("code", "contact__email")
    list_select_related = ("contact", "campaign")
    raw_id_fields = ("contact", "redeemed_purchase")


@admin.register(ReferralCode)
class ReferralCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("code", "contact", "created_at")
    search_fields = ("code", "contact__email")
    list_select_related = ("contact",)


@admin.register(Referral)
class ReferralAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("referrer", "referee", "purchase", "reward", "created_at")
    list_select_related = ("referrer", "referee", "purchase", "reward")
