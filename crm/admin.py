from django.contrib import admin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from .models import Heartbeat
from .schedule_words import crontab_in_words, schedule_in_words
from .shop import shop


@admin.register(Heartbeat)
class HeartbeatAdmin(admin.ModelAdmin):
    list_display = ("name", "beaten_at")
    readonly_fields = ("name", "beaten_at")


# Beat schedules in words and in the shop's time zone: django_celery_beat's own admin shows
# raw cron ("0 2 * * * (m/h/dM/MY/d) UTC").
admin.site.unregister(PeriodicTask)
admin.site.unregister(CrontabSchedule)


@admin.register(PeriodicTask)
class PeriodicTaskInWordsAdmin(beat_admin.PeriodicTaskAdmin):
    list_display = ("name", "enabled", "when", "last_run_at", "one_off")

    @admin.display(description=_("when"))
    def when(self, obj: PeriodicTask) -> str:
        return schedule_in_words(obj)

    def crontab_translation(self, obj: PeriodicTask) -> str:
        return schedule_in_words(obj) if obj.pk else ""


@admin.register(CrontabSchedule)
class CrontabScheduleInWordsAdmin(beat_admin.CrontabScheduleAdmin):
    list_display = ("in_words", "__str__")
    fields = ("in_words", "minute", "hour", "day_of_month", "month_of_year", "day_of_week",
              "timezone")
    readonly_fields = ("in_words",)

    @admin.display(description=_("when"))
    def in_words(self, obj: CrontabSchedule) -> str:
        if not obj.pk:
            return ""
        return crontab_in_words(obj.minute, obj.hour, obj.day_of_week, obj.day_of_month,
                                obj.month_of_year, str(obj.timezone))

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        return {"timezone": shop().time_zone, **super().get_changeform_initial_data(request)}
