from celery import shared_task
from django.utils import timezone

from .models import Heartbeat


@shared_task(name="crm.heartbeat", ignore_result=True)
def heartbeat_task() -> None:
    Heartbeat.objects.update_or_create(name="worker", defaults={"beaten_at": timezone.now()})
