"""The managers' admin for contacts, purchases, currency rates, imports and the consent ledger.

Every write goes through customers.services, exactly as the dashboard's do, so a purchase
added, corrected, refunded or deleted here leaves the contact's derived figures (count, dates,
total, stage) right, and consent changes keep their timestamp.

Modules: contacts, purchases, rates (currency rates), channels (the channel labels' mapping),
imports (the import jobs' record), common (what they share); importing them registers their
admins.
"""
from . import calls, channels, contacts, imports, purchases, rates  # noqa: F401 - registers the admins
from customers.scoring import admin as scoring_admin  # noqa: F401 - registers the scoring admin
from customers.consent import admin as consent_admin  # noqa: F401 - registers the ledger's admin
