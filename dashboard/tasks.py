from celery import shared_task

from crm.locks import single_run

from .kpis import kpis_refresh


# The name (and the lock) are those it had in customers/tasks.py: the "Refresh dashboard
# KPIs" beat schedule stored by crm's migrations calls it by that name.
@shared_task(name="customers.refresh_kpis", ignore_result=True)
@single_run("customers.refresh_kpis")  # one pass over every purchase is enough
def refresh_kpis_task() -> None:
    kpis_refresh()
