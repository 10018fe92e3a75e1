"""The deployed worker (crm's Celery app), except that in each pool process preparing an email
to a poison@ address kills that process, as an out-of-memory kill or a crash inside a C
library would: `celery -A campaigns.tests.poison_worker worker` (test_worker_faults)."""
import os
import signal

from celery.signals import worker_process_init

from crm.celery import app

__all__ = ["app"]


@worker_process_init.connect
def _poison(**_kwargs) -> None:
    """In each pool process after the fork (Django is set up by then)."""
    from campaigns.outbox import batch

    render_email = batch.render_email

    def render_or_die(template, context, **kwargs):
        if context["contact"]["email"].startswith("poison@"):
            os.kill(os.getpid(), signal.SIGKILL)
        return render_email(template, context, **kwargs)

    batch.render_email = render_or_die
