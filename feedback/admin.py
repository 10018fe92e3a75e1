"""Admin for survey answers: the list with NPS figures above it (last 90 days, by month for a
year, the latest comments), and the promotion pauses."""
import datetime as dt

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.admin_tools import ReadOnlyAdminMixin

from . import services
from .models import CATEGORY_LABELS, PromotionPause, SurveyResponse
from .nps import Category
from .selectors import latest_comments, nps_by_month, nps_summary

_CATEGORY_Q = {
    Category.PROMOTER: Q(score__gte=9),
    Category.PASSIVE: Q(score__gte=7, score__lte=8),
    Category.DETRACTOR: Q(score__lte=6),
}


class CategoryFilter(admin.SimpleListFilter):
    title = _("group")
    parameter_name = "group"

    def lookups(self, request, model_admin):
        return [(category.value, label) for category, label in CATEGORY_LABELS.items()] + [
            ("call_back", _("Detractors without a call-back task"))]

    def queryset(self, request, queryset):
        if self.value() == "call_back":
            return queryset.filter(_CATEGORY_Q[Category.DETRACTOR], follow_up__isnull=True)
        if self.value() in Category._value2member_map_:
            return queryset.filter(_CATEGORY_Q[Category(self.value())])
        return queryset


@admin.register(SurveyResponse)
class SurveyResponseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "contact", "score", "group", "short_comment", "language",
                    "follow_up")
    list_filter = (CategoryFilter, "language")
    date_hierarchy = "created_at"
    search_fields = ("contact__email", "comment")
    list_select_related = ("contact", "follow_up")
    change_list_template = "admin/feedback/surveyresponse/change_list.html"
    fields = ("contact", "purchase", "score", "comment", "language", "follow_up", "created_at",
              "updated_at")
    readonly_fields = fields

    @admin.display(description=_("group"))
    def group(self, response: SurveyResponse) -> str:
        return response.get_category_display()

    @admin.display(description=_("comment"))
    def short_comment(self, response: SurveyResponse) -> str:
        return response.comment[:80] or "–"

    def changelist_view(self, request, extra_context=None):
        today = timezone.localdate()
        extra = {
            "nps_recent": nps_summary(start=today - dt.timedelta(days=89), end=today),
            "nps_months": nps_by_month(start=today.replace(day=1) - dt.timedelta(days=335),
                                       end=today),
            "nps_comments": latest_comments(limit=5),
            **(extra_context or {}),
        }
        return super().changelist_view(request, extra_context=extra)


@admin.register(PromotionPause)
class PromotionPauseAdmin(admin.ModelAdmin):
    """Pauses through feedback.services, like the survey's: a manager may pause a contact,
    move the end of a pause or lift it; the answer that caused a pause is the survey's."""

    list_display = ("contact", "paused_until", "reason", "response", "created_at")
    list_filter = ("reason",)
    list_select_related = ("contact", "response")
    search_fields = ("contact__email",)
    raw_id_fields = ("contact",)

    def get_fields(self, request: HttpRequest, obj: PromotionPause | None = None):
        if obj is None:
            return ("contact", "paused_until")
        return ("contact", "paused_until", "reason", "response", "created_at")

    def get_readonly_fields(self, request: HttpRequest, obj: PromotionPause | None = None):
        return () if obj is None else ("contact", "reason", "response", "created_at")

    def save_model(self, request: HttpRequest, obj: PromotionPause, form, change: bool) -> None:
        until = form.cleaned_data["paused_until"]
        if change:
            pause = services.promotions_pause_change(pause=obj, until=until)
        else:
            pause = services.promotions_pause(contact=form.cleaned_data["contact"], until=until,
                                              reason=PromotionPause.Reason.MANAGER)
        for field in PromotionPause._meta.concrete_fields:  # the saved row, for the admin's log
            setattr(obj, field.attname, getattr(pause, field.attname))
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: PromotionPause) -> None:
        services.promotions_resume(pauses=PromotionPause.objects.filter(pk=obj.pk))

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        services.promotions_resume(pauses=queryset)
