"""A real Celery worker on the configured broker (Redis in CI) runs tasks; health checks see it."""
import pytest
from django.core.management import call_command

from crm.health import broker_check, heartbeat_check, worker_check
from crm.models import Heartbeat
from crm.tasks import heartbeat_task
from crm.tests.workers import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _wait_for_heartbeat(timeout: float = 20) -> bool:
    return wait_until(lambda: Heartbeat.objects.filter(name="worker").exists(), timeout)


def test_task_sent_through_the_broker_runs_on_a_worker(real_worker):
    heartbeat_task.delay()

    assert _wait_for_heartbeat()


def test_health_checks_pass_when_worker_and_beat_are_alive(real_worker):
    heartbeat_task.delay()
    assert _wait_for_heartbeat()

    checks = [broker_check(), worker_check(timeout=5), heartbeat_check()]

    assert [(check.name, check.ok) for check in checks] == [
        ("broker", True), ("worker", True), ("beat", True)]


def test_status_command_fails_without_a_worker(capsys):
    with pytest.raises(SystemExit) as caught:
        call_command("crm_status")

    assert caught.value.code == 1
    assert "no worker answered" in capsys.readouterr().out


def test_status_page_is_for_managers_only(client, sales_user, manager):
    client.force_login(sales_user)
    assert client.get("/status/").status_code == 403

    client.force_login(manager)
    response = client.get("/status/")
    assert response.status_code == 503
    assert b"Failing" in response.content
