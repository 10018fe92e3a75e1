"""Thin support tasks: one call to support.services, safe to run twice."""
from celery import shared_task

from .services import case_confirmation_send, case_message_send


# Safe to run twice: the service claims the case before sending and skips a claimed one.
@shared_task(name="support.send_case_confirmation", ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def case_confirmation_send_task(case_id: int) -> bool:
    """Email the confirmation link of a case sent through the public form."""
    return case_confirmation_send(case_id=case_id)


# Safe to run twice: the service claims the reply before sending and skips a claimed one.
@shared_task(name="support.send_case_reply", ignore_result=True,
             autoretry_for=(OSError,), retry_backoff=60, max_retries=5)
def case_message_send_task(message_id: int) -> bool:
    """Email a staff reply to the customer."""
    return case_message_send(message_id=message_id)
