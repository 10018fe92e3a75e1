"""The Celery app: configuration from Django settings (CELERY_ prefix), tasks autodiscovered."""
import os

from celery import Celery, Task

from . import broker_patches

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
broker_patches.apply()  # before any worker connects (see crm/broker_patches.py)



class ShopTimeZoneTask(Task):
    """Tasks count "today" in the shop's time zone (crm.shop), as pages do: Django's
    timezone.localdate() and localtime() follow it while a task runs."""

    def __call__(self, *args, **kwargs):
        from django.db import DatabaseError
        from django.utils import timezone

        from .shop import shop

        try:
            zone = shop().zone
        except DatabaseError:  # the task's own queries will say so; it may need none
            return super().__call__(*args, **kwargs)
        with timezone.override(zone):
            return super().__call__(*args, **kwargs)


app = Celery("crm", task_cls=ShopTimeZoneTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
