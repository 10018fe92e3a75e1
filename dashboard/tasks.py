from celery import shared_task

from crm.locks import single_run

from .bulk import bulk_assign_run
from .customer_base import customer_base_refresh_if_due
from .kpis import kpis_refresh


# The name (and the lock) are those it had in customers/tasks.py: the "Refresh dashboard
# KPIs" beat schedule stored by crm's migrations calls it by that name.
@shared_task(name="customers.refresh_kpis", ignore_result=True)
@single_run("customers.refresh_kpis")  # one pass over every purchase is enough
def refresh_kpis_task() -> None:
    kpis_refresh()
    # The managers' customer-base figures: once per published scoring run (after the nightly
    # run), not every 15 minutes.
    customer_base_refresh_if_due()


@shared_task(name="dashboard.bulk_assign", ignore_result=True)
def bulk_assign_task(job_id: int) -> None:
    """A whole filtered list's owner change (dashboard.bulk); safe to deliver twice."""
    bulk_assign_run(job_id)
