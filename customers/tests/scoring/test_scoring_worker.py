"""The nightly task through the real broker: fit once, chunks as separate tasks on a worker."""
import datetime as dt

import pytest
from django.utils import timezone

from crm.tests.workers import wait_until
from customers.models import ContactScore, ScoringChunk, ScoringRun
from customers.tasks import score_contacts_task
from customers.tests.scoring_data import CDNOW_SAMPLE_BUYERS, load_cdnow_sample

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_nightly_task_scores_everyone_through_chunk_tasks_on_a_worker(real_worker, settings):
    load_cdnow_sample(last_day=timezone.localdate() - dt.timedelta(days=1))
    settings.CRM_SCORING_CHUNK_SIZE = 600  # four chunk tasks

    score_contacts_task.delay()

    assert wait_until(lambda: ScoringRun.objects.exclude(status="running").exists(), timeout=60)
    run = ScoringRun.objects.get()
    assert (run.status, run.error) == (ScoringRun.Status.SUCCEEDED, "")
    assert ContactScore.objects.filter(run=run).count() == CDNOW_SAMPLE_BUYERS
    assert not ScoringChunk.objects.filter(run=run).exists()  # cleaned up once published
