import logging

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from .models import Heartbeat

logger = logging.getLogger(__name__)


@shared_task(name="crm.heartbeat", ignore_result=True)
def heartbeat_task() -> None:
    Heartbeat.objects.update_or_create(name="worker", defaults={"beaten_at": timezone.now()})


def queue_after_commit(task, *args, consequence: str) -> None:
    """Queue `task(*args)` once the current transaction commits (the worker must see the rows).

    A broker that is down must not undo what was just committed: the failure is logged with
    its `consequence` (what is missed, and what catches up) and the caller carries on.
    """
    def enqueue() -> None:
        try:
            task.delay(*args)
        except Exception:
            logger.exception("Could not queue %s%r: %s", task.name, args, consequence)

    transaction.on_commit(enqueue)
