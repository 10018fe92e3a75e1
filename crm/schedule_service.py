"""Changing when a beat schedule runs, in the shop's time zone (the schedules page)."""
from django.db import transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask, PeriodicTasks

from .shop import shop

EVERY_DAY, WEEKDAYS = "*", "1-5"


def schedule_time_set(*, task: PeriodicTask, day_of_week: str, hour: int, minute: int) -> None:
    """Run `task` at hour:minute of the shop's time zone, every day (`*`), on weekdays (`1-5`)
    or on one day (cron's 0-6, 0 Sunday). A running beat notices at its next check."""
    crontab, _created = CrontabSchedule.objects.get_or_create(
        minute=str(minute), hour=str(hour), day_of_week=day_of_week, day_of_month="*",
        month_of_year="*", timezone=shop().time_zone)
    with transaction.atomic():
        task.interval, task.crontab = None, crontab
        task.save()  # save(), not update(): beat re-reads tasks that save() marks changed


def schedules_move_time_zone(*, old: str, new: str) -> None:
    """The shop's time zone changed: schedules kept in the old one keep their wall-clock
    times in the new one ("every day at 02:00" stays 02:00, now in `new`)."""
    if old != new and CrontabSchedule.objects.filter(timezone=old).update(timezone=new):
        PeriodicTasks.update_changed()
