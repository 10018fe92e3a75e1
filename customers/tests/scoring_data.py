"""The CDNOW 1/10 sample (2,357 customers, 6,919 purchases) as contacts and purchases."""
import datetime as dt

from customers.imports.purchases import purchases_import_rows
from customers.tests.data.cdnow import sample_transactions

CDNOW_SAMPLE_BUYERS = 2357
CDNOW_LAST_DAY = dt.date(1998, 6, 30)


def load_cdnow_sample(*, last_day: dt.date, customers: int | None = None) -> dt.timedelta:
    """Import the sample with its dates moved so the history ends on `last_day`; the shift."""
    data = sample_transactions()
    shift = last_day - CDNOW_LAST_DAY
    rows = (
        {"email": f"cdnow{customer}@example.com",
         "purchased_at": (day.astype(dt.date) + shift).isoformat(),
         "amount": f"{amount:.2f}", "currency": "USD",
         "external_id": f"sample-{index}"}
        for index, (customer, day, amount) in enumerate(
            zip(data["customer"], data["day"], data["amount"]))
        if customers is None or customer <= customers
    )
    result = purchases_import_rows(rows=rows, source="cdnow-test")
    assert result.imported, result.errors[:3]
    return shift
