"""Run by test_migrations_replay in a process of its own (`python -m crm.tests.replay_migrate`):
migrate the empty database DATABASE_URL names from zero, as `manage.py migrate` does, while the
current code's defaults say something else (as a later release's will), then print what is in
the database as one JSON line after SNAPSHOT_PREFIX.

Migrations that still read the current code pick the changes up (or crash on a field their
historical model does not have yet); frozen ones do not.
"""
import json

import django

SNAPSHOT_PREFIX = "REPLAY-SNAPSHOT "
LATER = "Changed in a later release"


def change_current_defaults() -> None:
    """What a later release may do to the defaults modules: new fields, other texts, more rows.

    Only modules no post_migrate handler reads from in a way that would hide the change:
    accounts.roles is applied again after every migrate (accounts/apps.py), so the static test
    covers its migration instead.
    """
    import campaigns.defaults
    import crm.schedules
    import customers.consent.wordings
    import customers.search
    import feedback.defaults
    import feedback.defaults_tr

    campaigns.defaults.TEMPLATES[0]["subject"] = LATER
    campaigns.defaults.CAMPAIGNS.append({"name": LATER, "template": "Tell a friend",
                                         "field_added_later": True})
    feedback.defaults_tr.TRANSLATIONS["We miss you"]["subject"] = LATER
    feedback.defaults.TEMPLATE["body_html"] = LATER
    feedback.defaults.CAMPAIGN["field_added_later"] = True
    crm.schedules.DEFAULT_SCHEDULES.append(
        crm.schedules.DefaultSchedule(LATER, "crm.later", every_minutes=7))
    customers.search.FOLD_FROM, customers.search.FOLD_TO = "Ææ", "aa"
    customers.consent.wordings.INITIAL_WORDINGS[("marketing_email", "en")] = LATER


def snapshot() -> dict:
    from django.apps import apps
    from django.db import connection

    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    EmailTemplate = apps.get_model("campaigns", "EmailTemplate")
    Campaign = apps.get_model("campaigns", "Campaign")
    ConsentWording = apps.get_model("customers", "ConsentWording")

    schedules = [
        {"name": task.name, "task": task.task,
         "every_minutes": task.interval.every if task.interval else None,
         "period": task.interval.period if task.interval else None,
         "crontab": ([task.crontab.minute, task.crontab.hour, task.crontab.day_of_week,
                      task.crontab.day_of_month, task.crontab.month_of_year,
                      str(task.crontab.timezone)] if task.crontab else None)}
        for task in PeriodicTask.objects.select_related("interval", "crontab")]
    groups = {group.name: sorted(f"{p.content_type.app_label}.{p.codename}"
                                 for p in group.permissions.select_related("content_type"))
              for group in Group.objects.all()}
    templates = {
        template.name: {
            "subject": template.subject, "body_text": template.body_text,
            "body_html": template.body_html,
            "translations": {t.language: {"subject": t.subject, "body_text": t.body_text,
                                          "body_html": t.body_html}
                             for t in template.translations.all()}}
        for template in EmailTemplate.objects.prefetch_related("translations")}
    fields = [field.attname for field in Campaign._meta.concrete_fields
              if field.attname not in {"id", "template_id", "created_at", "updated_at"}]
    campaigns = {row["name"]: row for row in Campaign.objects.values(*fields, "template__name")}
    wordings = [{"purpose": w.purpose, "language": w.language, "version": w.version,
                 "text": w.text, "published_at": w.published_at.isoformat()}
                for w in ConsentWording.objects.all()]
    indexes = {}
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname, indexdef FROM pg_indexes "
                           "WHERE tablename = 'customers_contact' AND indexname LIKE '%%trgm'")
            indexes = dict(cursor.fetchall())
    return {"schedules": schedules, "groups": groups,
            "permissions": sorted(f"{p.content_type.app_label}.{p.codename}"
                                  for p in Permission.objects.select_related("content_type")),
            "templates": templates, "campaigns": campaigns, "wordings": wordings,
            "indexes": indexes, "vendor": connection.vendor}


def main() -> None:
    django.setup()
    change_current_defaults()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    print(SNAPSHOT_PREFIX + json.dumps(snapshot(), default=str, sort_keys=True))


if __name__ == "__main__":
    main()
