"""Channel mappings in the admin: a shop's own channel labels and the reporting channel each
counts as (customers.channels). Labels seen in purchases but not mapped are listed first, with
how many purchases used them; mapping one re-maps its stored purchases."""
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Case, IntegerField, Value, When
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from ..channels import channel_label_clean, channel_mapping_delete, channel_mapping_save
from ..models import ChannelMapping
from ..normalise import channel_key


class ChannelMappingForm(forms.ModelForm):
    class Meta:
        model = ChannelMapping
        fields = ("label", "channel")

    def clean_label(self) -> str:
        label = channel_label_clean(self.cleaned_data["label"])
        if not label:
            raise ValidationError(_("Give the label as your shop writes it."))
        key = channel_key(label)
        if ChannelMapping.objects.filter(key=key).exclude(pk=self.instance.pk).exists():
            raise ValidationError(_("The label %(label)s is mapped already (labels are matched "
                                    "ignoring case).") % {"label": label})
        return label


class MappedFilter(admin.SimpleListFilter):
    title = gettext_lazy("mapped")
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("no", _("Unmapped")), ("yes", _("Mapped"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(channel="")
        if self.value() == "yes":
            return queryset.exclude(channel="")
        return queryset


@admin.register(ChannelMapping)
class ChannelMappingAdmin(admin.ModelAdmin):
    form = ChannelMappingForm
    list_display = ("label", "channel", "status")
    list_display_links = ("label",)
    list_editable = ("channel",)
    list_filter = (MappedFilter, "channel")
    search_fields = ("key",)
    actions = ("delete_selected",)

    def get_queryset(self, request):
        # Unmapped labels first, the most used first: what a manager has to look at.
        return super().get_queryset(request).annotate(
            unmapped=Case(When(channel="", then=Value(0)), default=Value(1),
                          output_field=IntegerField()),
        ).order_by("unmapped", "-seen", "key")

    @admin.display(description=gettext_lazy("status"))
    def status(self, obj: ChannelMapping) -> str:
        if obj.channel:
            return _("mapped")
        return ngettext("unmapped, seen %(count)d time", "unmapped, seen %(count)d times",
                        obj.seen) % {"count": obj.seen}

    def get_search_results(self, request, queryset, search_term):
        if search_term.strip():
            queryset = queryset.filter(key__contains=channel_key(search_term))
        return queryset, False

    def save_model(self, request, obj, form, change):
        changed = channel_mapping_save(obj)
        if changed:
            self.message_user(request, ngettext(
                "%(count)d purchase now counts in its new channel.",
                "%(count)d purchases now count in their new channel.", changed,
            ) % {"count": changed}, messages.SUCCESS)

    def delete_model(self, request, obj):
        channel_mapping_delete([obj])

    def delete_queryset(self, request, queryset):
        channel_mapping_delete(queryset)
