"""The row locks and the conflict-aware insert that the purchase writes share.

Every purchase write locks its contact row first, so concurrent writers for one contact are
serialised; bulk writers lock in id order so two of them cannot deadlock.
"""
from django.db import connections, router
from django.db.models import Model
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery

from crm.prepared import PreparedLookup

from ..models import Contact
from ..normalise import normalise_email


def lock_contact(contact_id: int) -> None:
    """Lock the contact's row until the transaction ends."""
    list(Contact.objects.select_for_update().filter(pk=contact_id).values_list("pk"))


def contact_lock_or_create(*, email: str, first_name: str, last_name: str) -> Contact:
    """The contact with this email, locked until the transaction ends; created when new (a
    row this transaction inserted is as good as locked: nobody else sees it before commit)."""
    email = normalise_email(email)
    contact = _CONTACT_BY_EMAIL_LOCKED.first(email=email)
    if contact is not None:
        return contact
    contact = Contact(email=email, first_name=first_name.strip(), last_name=last_name.strip())
    if insert_unless_conflict(contact):
        return contact
    # Created by a concurrent writer since the first look: wait for it, then use it.
    contact = _CONTACT_BY_EMAIL_LOCKED.first(email=email)
    assert contact is not None  # the conflict was on email, the contact's only unique column
    return contact


_CONTACT_BY_EMAIL_LOCKED: PreparedLookup[Contact] = PreparedLookup(
    lambda email: Contact.objects.select_for_update().filter(email=email),
    email="prepared-email",
)


def insert_unless_conflict(instance: Model) -> bool:
    """INSERT ... ON CONFLICT DO NOTHING RETURNING id: one statement, where create() inside a
    savepoint takes three. False (and nothing written) when a unique constraint already holds
    the values; on PostgreSQL a conflicting row still uncommitted is waited for first."""
    model = instance._meta.model
    query = InsertQuery(model, on_conflict=OnConflict.IGNORE)
    query.insert_values([field for field in model._meta.local_concrete_fields
                         if not (field.primary_key or field.generated)], [instance])
    connection = connections[router.db_for_write(model)]
    sql, params = query.get_compiler(connection=connection).as_sql()[0]
    pk = model._meta.pk
    with connection.cursor() as cursor:
        cursor.execute(f"{sql} RETURNING {connection.ops.quote_name(pk.column)}", params)
        row = cursor.fetchone()
    if row is None:
        return False
    instance.pk = row[0]
    instance._state.adding, instance._state.db = False, connection.alias
    return True
