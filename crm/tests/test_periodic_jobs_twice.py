"""Every periodic job is safe to run twice at once: locked (crm.locks.single_run), or safe by
its own design, said here with the test that shows it."""
import pytest

from crm.celery import app
from crm.schedules import DEFAULT_SCHEDULES

pytestmark = pytest.mark.django_db

# Jobs without a lock, and what makes a second copy harmless.
SAFE_BY_DESIGN = {
    "crm.heartbeat": "one row, update_or_create (test below)",
    "customers.score_contacts": "one running ScoringRun at most, a partial unique constraint "
                                "(test below; customers/tests/scoring/test_scoring_job.py)",
    "campaigns.send_due": "rows are claimed before sending (campaigns.outbox.claim_batch)",
    "campaigns.recover_stuck": "conditional updates of rows stuck in SENDING",
    "feedback.queue_surveys": "the survey campaign's row lock serialises runs, the second finds "
                              "everyone asked (feedback/tests/test_queueing.py::"
                              "test_running_twice_writes_the_outbox_rows_once)",
    "campaigns.failure_digest": "claims its day before sending (campaigns/tests/"
                                "test_failure_digest.py)",
    "customers.follow_up_reminders": "each reminder is claimed (one UPDATE ... WHERE "
                                     "reminded_at IS NULL RETURNING) before it is sent "
                                     "(customers/tests/test_follow_up_reminders.py)",
    "campaigns.decide_variant_tests": "each test is decided once under its campaign's and "
                                      "its own row lock; a decided test is skipped "
                                      "(campaigns/tests/test_variants_decision.py)",
    "campaigns.journeys_advance": "each enrollment is walked under its row lock, its position "
                                  "stored with the rows it wrote (campaigns/tests/"
                                  "test_journeys_crash.py)",
    "campaigns.journey_anniversaries": "one enrollment per contact and year, a unique "
                                       "constraint (campaigns/tests/"
                                       "test_journeys_anniversary.py)",
}


def _lock_name(task_name: str) -> str | None:
    app.loader.import_default_modules()
    return getattr(app.tasks[task_name].run, "single_run", None)


@pytest.mark.parametrize("schedule", DEFAULT_SCHEDULES, ids=lambda s: s.task)
def test_every_scheduled_job_is_locked_or_safe_by_design(schedule):
    locked = _lock_name(schedule.task)

    assert locked == schedule.task or schedule.task in SAFE_BY_DESIGN
    assert not (locked and schedule.task in SAFE_BY_DESIGN)  # one reason, kept up to date


def test_the_heartbeat_twice_leaves_one_row():
    from crm.models import Heartbeat
    from crm.tasks import heartbeat_task

    heartbeat_task(), heartbeat_task()

    assert Heartbeat.objects.filter(name="worker").count() == 1


def test_scoring_started_while_a_run_is_going_does_nothing(monkeypatch):
    import customers.tasks
    from customers.models import ScoringRun
    from customers.scoring.runs import scoring_run_start

    executed = []
    monkeypatch.setattr(customers.tasks, "scoring_run_execute",
                        lambda run_id, parallel: executed.append(run_id))
    going = scoring_run_start(trigger=ScoringRun.Trigger.SCHEDULE)

    customers.tasks.score_contacts_task()

    assert executed == []
    assert list(ScoringRun.objects.values_list("pk", flat=True)) == [going.pk]
