"""Frozen helper of the schedule migrations (0002-0006, 0008). Never edit it, and import it from
nothing but these migrations.

A copy of crm.schedules.register_default_schedules and DEFAULT_SCHEDULES as they were on
2026-12-07 (after 0008), so that what an applied migration does never changes with the
current code. A new default schedule is a new migration with its own list (see 0008), not a
change here or in crm/schedules.py alone.
"""
from typing import NamedTuple


class Schedule(NamedTuple):
    name: str
    task: str
    every_minutes: int | None = None
    crontab: tuple[str, str] | None = None  # (minute, hour) in the shop's time zone


# What crm.schedules.DEFAULT_SCHEDULES held on 2026-12-07. Migrations 0002-0006 all registered
# "the current list" when they ran; since a fresh migrate runs 0002 first, every database
# migrated from zero got all of these from 0002 (and 0003-0006 found them there). Freezing
# that list keeps a fresh migrate, and an upgrade from any older release, doing exactly that.
SCHEDULES_2026_12_07 = (
    Schedule("Worker heartbeat", "crm.heartbeat", every_minutes=1),
    Schedule("Re-derive contact purchase figures", "customers.rederive_stats",
             crontab=("30", "3")),
    Schedule("Score contacts (likelihood to buy again)", "customers.score_contacts",
             crontab=("0", "2")),
    Schedule("Send due emails", "campaigns.send_due", every_minutes=1),
    Schedule("Recover stuck emails", "campaigns.recover_stuck", every_minutes=5),
    Schedule("Campaign events: clients falling at risk", "campaigns.detect_at_risk",
             crontab=("15", "6")),
    Schedule("Refresh dashboard KPIs", "customers.refresh_kpis", every_minutes=15),
    Schedule("Queue satisfaction surveys", "feedback.queue_surveys", crontab=("0", "10")),
    Schedule("Send due webhooks", "webhooks.send_due", every_minutes=1),
    Schedule("Delete old import files", "customers.import_purge", crontab=("40", "3")),
    Schedule("Email managers the failed emails", "campaigns.failure_digest",
             crontab=("0", "8")),
)


def register(apps, schedules, time_zone: str) -> None:
    """Create each schedule whose name is not taken yet; existing ones (and managers' edits to
    them) stay as they are."""
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    for schedule in schedules:
        if PeriodicTask.objects.filter(name=schedule.name).exists():
            continue
        when = {}
        if schedule.every_minutes:
            when["interval"], _ = IntervalSchedule.objects.get_or_create(
                every=schedule.every_minutes, period="minutes"
            )
        else:
            minute, hour = schedule.crontab
            when["crontab"], _ = CrontabSchedule.objects.get_or_create(
                minute=minute, hour=hour, day_of_week="*", day_of_month="*",
                month_of_year="*", timezone=time_zone,
            )
        PeriodicTask.objects.create(name=schedule.name, task=schedule.task, **when)
