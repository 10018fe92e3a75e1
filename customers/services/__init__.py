"""Every write to contacts and purchases goes through here: dashboard, admin, import, API, tasks.

Modules: contacts (create, update, consent, owner), purchases (record, correct, delete; each
write locks its contact row first, so concurrent writers for one contact are serialised and the
derived figures, customers.stats, are recomputed from committed data), refunds, locking (the
contact row lock and the insert that waits on a conflicting row), consistency (re-deriving the
stored figures and purchase days), rates (currency rates).
"""
