"""The Celery app: configuration from Django settings (CELERY_ prefix), tasks autodiscovered."""
import os

from celery import Celery

from . import broker_patches

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings.local")
broker_patches.apply()  # before any worker connects (see crm/broker_patches.py)

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
