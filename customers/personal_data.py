"""What customers/ holds about a person, for export and erasure (see crm/personal_data.py).

Registered from CustomersConfig.ready(). The contact row stays as an anonymous shell, so
purchases and the figures derived from them (revenue, counts, scores) do not change.
"""
from django.db.models import Value
from django.db.models.functions import Coalesce

from crm.personal_data import Custom, Delete, Keep, Person, Replace, Section

from .models import (
    CallLog,
    Contact,
    ContactScore,
    FollowUp,
    ImportJob,
    Note,
    Purchase,
    PurchaseLine,
)

CONTACT_FIELDS = (
    "id", "email", "first_name", "last_name", "phone", "language", "marketing_consent",
    "consent_changed_at", "consent_source", "created_at", "updated_at", "purchase_count",
    "first_purchase_at", "last_purchase_at", "total_spent", "stage",
)
SCORE_FIELDS = (
    "scored_at", "p_buy_again", "p_alive", "expected_purchases", "expected_value",
    "predicted_value_12m", "frequency", "recency_days", "age_days", "value_if_active_12m",
)


def _current_score(person: Person):
    from .scoring.runs import current_run  # the scoring job's module is heavy; load on use

    run = current_run()
    scores = ContactScore.objects.filter(contact=person.contact)
    return scores.filter(run=run) if run is not None else scores.none()


def _import_rows_forget(person: Person) -> int:
    """Preview rows and rejected-rows reports quote the file; a failed job's error may quote
    a row too (a database error names the conflicting key)."""
    from .imports.retention import import_jobs_forget  # the import machinery, loaded on use

    removed = import_jobs_forget(person.email)
    removed += ImportJob.objects.filter(error__icontains=person.email).update(error="")
    return removed


SECTIONS = (
    Section(
        name="contact", model=Contact, by="pk", one=True,
        columns=(*((name, name) for name in CONTACT_FIELDS),
                 ("owner", Coalesce("owner__username", Value("")))),
        erase=Replace({"email": lambda person: person.erased_email, "first_name": "",
                       "last_name": "", "phone": "", "language": ""}, stamp="updated_at"),
        # A channel name (checkout, import, staff); erasure's consent withdrawal sets it to
        # "erasure" anyway.
        kept=("consent_source",),
        count_key="contact_anonymised",
    ),
    Section(
        name="current_score", model=ContactScore, rows=_current_score, one=True,
        columns=tuple((name, name) for name in SCORE_FIELDS),
        erase=Keep(),  # numbers only
    ),
    Section(
        name="purchases", model=Purchase, by="contact", order_by=("purchased_at", "id"),
        columns=(("id", "id"), ("purchased_at", "purchased_at"), ("amount", "amount"),
                 ("currency", "currency"), ("amount_base", "amount_base"),
                 ("quantity", "quantity"), ("channel", "channel"),
                 ("channel_label", "channel_label"), ("source", "source"),
                 ("external_id", "external_id"), ("code", "code"),
                 ("refunded_at", "refunded_at"), ("refunded_amount", "refunded_amount")),
        # Revenue figures must not change. The order id stays so a retried shop webhook for
        # the same order is still recognised (no duplicate sale); the code is a random coupon
        # or referral code; the channel label is the shop's name for where it sold (web,
        # Trendyol), shared by every buyer there.
        erase=Keep(), kept=("currency", "source", "external_id", "code", "channel_label"),
    ),
    Section(
        # What was bought in each purchase above; the products are the shop's catalogue.
        # Kept as the purchases are (figures, "customers who bought X"), deleted with them.
        name="purchase_lines", model=PurchaseLine, by="purchase__contact",
        order_by=("purchase__purchased_at", "purchase_id", "id"),
        columns=(("purchase_id", "purchase_id"), ("sku", "product__sku"),
                 ("product", "product__name"), ("category", "product__category"),
                 ("quantity", "quantity"), ("unit_price", "unit_price"),
                 ("discount", "discount"), ("total", "total"),
                 ("refunded_quantity", "refunded_quantity")),
        erase=Keep(),
    ),
    Section(
        name="notes", model=Note, by="contact", order_by=("created_at", "id"),
        columns=(("id", "id"), ("created_at", "created_at"), ("body", "body")),
        erase=Delete(),
    ),
    Section(
        name="follow_ups", model=FollowUp, by="contact", order_by=("due_on", "id"),
        columns=(("id", "id"), ("title", "title"), ("due_on", "due_on"),
                 ("due_time", "due_time"), ("done_at", "done_at"),
                 ("created_at", "created_at")),
        erase=Delete(),
    ),
    Section(
        name="calls", model=CallLog, by="contact", order_by=("called_at", "id"),
        columns=(("id", "id"), ("called_at", "called_at"), ("outcome", "outcome"),
                 ("note", "note")),
        erase=Delete(),
    ),
    Section(
        # Not exported: the rows are copies of what the contact section already holds, as a
        # file staff uploaded had them.
        name="import_rows", model=ImportJob, rows=lambda person: ImportJob.objects.none(),
        erase=Custom(_import_rows_forget, fields=("preview", "error")),
        # Staff's file name, our own paths, channel name and date order choice.
        kept=("original_name", "upload_path", "source", "report_path", "date_order",
              "lines_name", "lines_path"),
        count_key="import_rows_deleted",
    ),
)
