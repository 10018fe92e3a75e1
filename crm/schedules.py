"""Default periodic tasks. Stored in the database (django-celery-beat) so managers can change
them in the admin. Migrations register them once, from frozen copies of this list
(crm/migrations/_schedules.py), and never overwrite a manager's edits: a schedule added here
needs a new migration of its own (as 0008 does); crm/tests/test_migrations_replay.py checks."""
from dataclasses import dataclass


@dataclass(frozen=True)
class DefaultSchedule:
    name: str
    task: str
    every_minutes: int | None = None
    crontab: tuple[str, str] | None = None  # (minute, hour) in the shop's time zone


DEFAULT_SCHEDULES = [
    DefaultSchedule("Worker heartbeat", "crm.heartbeat", every_minutes=1),
    DefaultSchedule("Re-derive contact purchase figures", "customers.rederive_stats",
                    crontab=("30", "3")),
    DefaultSchedule("Score contacts (likelihood to buy again)", "customers.score_contacts",
                    crontab=("0", "2")),
    # Sending: retries and delayed messages go out, and rows a dead worker left are settled.
    DefaultSchedule("Send due emails", "campaigns.send_due", every_minutes=1),
    DefaultSchedule("Recover stuck emails", "campaigns.recover_stuck", every_minutes=5),
    # Campaign events that no purchase announces, and the dashboard's figures.
    DefaultSchedule("Campaign events: clients falling at risk", "campaigns.detect_at_risk",
                    crontab=("15", "6")),
    DefaultSchedule("Refresh dashboard KPIs", "customers.refresh_kpis", every_minutes=15),
    # Satisfaction surveys: CRM_SURVEY_DELAY_DAYS after a purchase (feedback app).
    DefaultSchedule("Queue satisfaction surveys", "feedback.queue_surveys", crontab=("0", "10")),
    # Webhooks: pending deliveries whose queued task was lost (webhooks app).
    DefaultSchedule("Send due webhooks", "webhooks.send_due", every_minutes=1),
    # Browser CSV imports: reports of rejected rows are kept CRM_IMPORT_KEEP_DAYS.
    DefaultSchedule("Delete old import files", "customers.import_purge", crontab=("40", "3")),
    # Managers: the emails that failed for good since the last digest (campaigns.digest).
    DefaultSchedule("Email managers the failed emails", "campaigns.failure_digest",
                    crontab=("0", "8")),
    # Exchange rates: after TCMB (15:30 Istanbul) and the ECB (about 16:00 CET) publish.
    DefaultSchedule("Fetch exchange rates", "customers.fetch_rates", crontab=("30", "17")),
    # Follow-ups: the assignee's reminder email at the due time (customers.services).
    DefaultSchedule("Email follow-up reminders", "customers.follow_up_reminders",
                    every_minutes=1),
    # What was bought (customers.bought): "also bought" pairs and reorder intervals nightly,
    # then the "time to reorder" campaign reminders due today.
    DefaultSchedule("Product pairs and reorder intervals", "customers.product_figures",
                    crontab=("0", "4")),
    DefaultSchedule("Campaign events: time to reorder", "campaigns.reorder_check",
                    crontab=("30", "6")),
    # Journeys (campaigns.journey_advance): due steps every minute; anniversaries daily.
    DefaultSchedule("Campaign journeys: next steps", "campaigns.journeys_advance",
                    every_minutes=1),
    DefaultSchedule("Campaign events: first-purchase anniversaries",
                    "campaigns.journey_anniversaries", crontab=("45", "6")),
    # Shop connectors: webhook deliveries the worker never got, and old bodies deleted; an
    # hourly reconciliation poll of every store (and sync jobs whose worker died resumed).
    DefaultSchedule("Shops: process waiting webhook deliveries", "shops.sweep_deliveries",
                    every_minutes=1),
    DefaultSchedule("Shops: poll stores for missed orders", "shops.poll_stores",
                    every_minutes=60),
    # Subject and content tests whose period has passed: decided, the rest sent the winner.
    DefaultSchedule("Decide subject and content tests", "campaigns.decide_variant_tests",
                    every_minutes=10),
]


def register_default_schedules(apps, schedules=DEFAULT_SCHEDULES, time_zone: str = "UTC") -> None:
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
