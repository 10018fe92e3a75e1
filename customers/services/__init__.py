"""Every write to contacts and purchases goes through here: dashboard, admin, import, API, tasks.

Modules: contacts (create, update, consent, owner), purchases (record, correct, delete; each
write locks its contact row first, so concurrent writers for one contact are serialised and the
derived figures, customers.stats, are recomputed from committed data), refunds, locking (the
contact row lock and the insert that waits on a conflicting row), consistency (re-deriving the
stored figures and purchase days), rates (currency rates).
"""
# TEMPORARY SHIM (issue #16): re-exports the names of the former customers/services.py for the
# callers not yet converted to the concern modules above; the lead removes it once they are.
from .consistency import DriftReport, contacts_rederive_stats, purchases_rederive_days
from .contacts import (
    CONTACT_EDITABLE_FIELDS,
    contact_create,
    contact_get_or_create,
    contact_set_consent,
    contact_update,
    contacts_assign_owner,
)
from .purchases import (
    PurchaseResult,
    purchase_clean,
    purchase_delete,
    purchase_known,
    purchase_record,
    purchase_record_by_email,
    purchase_update,
    purchases_delete,
)
from .rates import currency_rates
from .refunds import purchase_refund, purchase_refund_to, refund_amount_check

__all__ = [
    "CONTACT_EDITABLE_FIELDS", "DriftReport", "PurchaseResult", "contact_create",
    "contact_get_or_create", "contact_set_consent", "contact_update", "contacts_assign_owner",
    "contacts_rederive_stats", "currency_rates", "purchase_clean", "purchase_delete",
    "purchase_known", "purchase_record", "purchase_record_by_email", "purchase_refund",
    "purchase_refund_to", "purchase_update", "purchases_delete", "purchases_rederive_days",
    "refund_amount_check",
]
