"""/status/ and crm_status show every beat process: a standby beside the sending one is a
warning (200), two sending at once or none a failure (503)."""
import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from crm import health
from crm.beat import BeatSeen, beats_verdict
from crm.health import Check
from crm.models import BeatProcess

pytestmark = pytest.mark.django_db


@pytest.fixture
def other_checks_pass(monkeypatch):
    """Broker, worker and heartbeat pass (no real worker here): only the beats check decides."""
    import crm.views  # noqa: F401 - bound to the real checks before they are replaced here

    for name in ("broker_check", "worker_check", "heartbeat_check"):
        monkeypatch.setattr(health, name, lambda *args, _name=name, **kwargs: Check(
            _name.removesuffix("_check"), True, "fine"))


def seen_beat(host: str, pid: int, *, sending: bool, seconds_ago: float = 3) -> BeatProcess:
    now = timezone.now()
    return BeatProcess.objects.create(
        ident=f"{host}:{pid}:abcd", host=host, pid=pid, started_at=now - dt.timedelta(hours=1),
        last_seen=now - dt.timedelta(seconds=seconds_ago),
        leading_until=now + dt.timedelta(seconds=20) if sending else None)


def test_a_standby_beat_is_a_visible_warning_not_a_failure(client, manager, other_checks_pass):
    seen_beat("app-1", 101, sending=True)
    seen_beat("app-2", 202, sending=False)
    client.force_login(manager)

    response = client.get("/status/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "2 beat processes running: app-1:101 (sending), app-2:202 (standby)" in html
    assert "text-bg-warning" in html


def test_two_beats_both_sending_is_a_failure(client, manager, other_checks_pass):
    seen_beat("app-1", 101, sending=True)
    seen_beat("app-2", 202, sending=True)
    client.force_login(manager)

    response = client.get("/status/")

    assert response.status_code == 503
    assert "2 beat processes sending at once" in response.content.decode()


def test_one_sending_beat_is_fine(client, manager, other_checks_pass):
    seen_beat("app-1", 101, sending=True)
    seen_beat("old-box", 7, sending=False, seconds_ago=600)  # gone long ago: not listed
    client.force_login(manager)

    response = client.get("/status/")

    assert response.status_code == 200
    assert "app-1:101 (sending)" in response.content.decode()
    assert "old-box" not in response.content.decode()


def test_no_beat_checking_in_is_a_failure(client, manager, other_checks_pass):
    client.force_login(manager)

    response = client.get("/status/")

    assert response.status_code == 503
    assert "no beat process has checked in" in response.content.decode()


def test_the_status_command_warns_about_a_standby_and_exits_0(capsys, other_checks_pass):
    seen_beat("app-1", 101, sending=True)
    seen_beat("app-2", 202, sending=False)

    call_command("crm_status")  # no SystemExit

    out = capsys.readouterr().out
    assert "WARNING" in out
    assert "2 beat processes running: app-1:101 (sending), app-2:202 (standby)" in out


def test_the_status_command_fails_when_two_beats_send(other_checks_pass):
    seen_beat("app-1", 101, sending=True)
    seen_beat("app-2", 202, sending=True)

    with pytest.raises(SystemExit) as caught:
        call_command("crm_status")

    assert caught.value.code == 1


def test_a_holder_that_stopped_checking_in_is_shown_silent_and_none_sends():
    verdict = beats_verdict([BeatSeen("app-1:101", sending=False, seconds_ago=75)],
                            check_seconds=10)

    assert (verdict.ok, verdict.detail) == (
        False, "no beat process is sending: app-1:101 (silent for 75 s)")
