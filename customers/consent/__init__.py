"""The consent ledger: every giving or withdrawal of marketing consent, with the exact wording.

It lives with the contact (issue #16: moved down from privacy), so customers, campaigns,
privacy, the API and the dashboard all write and read it from below them.

    models.py     ConsentPurpose, ConsentWording (the texts, immutable once used),
                  ConsentMethod, ConsentRecord (append-only); registered by customers.models
    services.py   the writes (consent_record, consent_records_bulk) and the wording look-ups
    selectors.py  reads for screens (a contact's consent history)
    wordings.py   version 1 of the wordings, seeded after migrate (CustomersConfig)
    admin.py      the wordings' and records' admin (imported by customers.admin)
"""
