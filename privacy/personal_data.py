"""What privacy/ declares about a person, for export and erasure (see crm/personal_data.py).

The consent ledger (customers.consent, moved there in #16) is still declared here, after the
other apps' sections, so exports keep their order. PrivacyLog is not here: it names the
contact by id only, never their data (the completeness test lists it among the exemptions).
"""
from crm.personal_data import Replace, Section
from customers.consent.models import ConsentRecord

SECTIONS = (
    Section(
        # The ledger with the exact wording agreed to: what the person saw is theirs to see.
        name="consent_records", model=ConsentRecord, by="contact",
        order_by=("occurred_at", "id"),
        columns=(("id", "id"), ("given", "given"), ("purpose", "purpose"),
                 ("occurred_at", "occurred_at"), ("method", "method"),
                 ("source", "source"), ("language", "language"),
                 ("wording_version", "wording__version"),
                 ("wording_text", "wording__text"), ("evidence", "evidence")),
        # The rows stay: they prove consent was honoured. A free-text note might name them.
        erase=Replace({"evidence": ""}),
        kept=("source", "language"),  # a channel or shop name; a language code
        count_key="consent_evidence_blanked",
    ),
)
