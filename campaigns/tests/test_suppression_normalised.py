"""Suppressed addresses are stored as contacts' addresses are (trimmed, lower case), whoever
writes them, so the send-time check finds them whatever capitalisation was typed."""
import datetime as dt
import importlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from campaigns.models import Message, Suppression
from campaigns.outbox import send_due_messages
from campaigns.suppression import address_suppress
from campaigns.tests.factories import MessageFactory
from campaigns.tests.smtp import smtp_sink  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db
ADD = "admin:campaigns_suppression_add"


def test_an_address_suppressed_in_the_admin_as_typed_stops_the_queued_email(client, manager,
                                                                             smtp_sink):
    message = MessageFactory(contact__email="bob@example.com")
    client.force_login(manager)

    response = client.post(reverse(ADD), {"email": "Bob@Example.com", "reason": "unsubscribed",
                                          "detail": "asked on the phone"})
    report = send_due_messages()

    message.refresh_from_db()
    assert response.status_code == 302
    assert (message.status, message.last_error) == (Message.Status.SUPPRESSED,
                                                    "suppressed:unsubscribed")
    assert (report.sent, report.suppressed) == (0, 1)
    assert smtp_sink.received == []
    assert list(Suppression.objects.values_list("email", "reason", "detail")) == [
        ("bob@example.com", "unsubscribed", "asked on the phone")]


def test_the_admin_refuses_the_same_address_again_in_another_case(client, manager):
    address_suppress(email="bob@example.com", reason=Suppression.Reason.BOUNCED)
    client.force_login(manager)

    response = client.post(reverse(ADD), {"email": " BOB@example.com ", "reason": "unsubscribed"})

    assert response.status_code == 200 and "already exists" in response.content.decode()
    assert list(Suppression.objects.values_list("email", "reason")) == [
        ("bob@example.com", "bounced")]


def test_the_admin_refuses_something_that_is_not_an_address(client, manager):
    client.force_login(manager)

    response = client.post(reverse(ADD), {"email": "bob at example", "reason": "unsubscribed"})

    assert response.status_code == 200 and not Suppression.objects.exists()


def test_a_saved_address_cannot_be_changed_in_the_admin(client, manager):
    """Editing the address would quietly lift the suppression of the old one."""
    suppression = address_suppress(email="bob@example.com", reason=Suppression.Reason.BOUNCED)
    client.force_login(manager)

    client.post(reverse("admin:campaigns_suppression_change", args=[suppression.pk]),
                {"email": "other@example.com", "reason": "complained", "detail": "x"})

    suppression.refresh_from_db()
    assert (suppression.email, suppression.reason) == ("bob@example.com", "complained")


def test_the_service_stores_the_address_normalised_and_keeps_the_first_reason():
    first = address_suppress(email="  Bob@Example.COM ", reason=Suppression.Reason.BOUNCED)
    again = address_suppress(email="bob@example.com", reason=Suppression.Reason.UNSUBSCRIBED)

    assert first.pk == again.pk
    assert list(Suppression.objects.values_list("email", "reason")) == [
        ("bob@example.com", "bounced")]


@pytest.mark.parametrize("email", ["Bob@Example.com", " bob@example.com"])
def test_the_database_refuses_an_address_that_is_not_normalised(email):
    with pytest.raises(IntegrityError), transaction.atomic():
        Suppression.objects.create(email=email, reason=Suppression.Reason.UNSUBSCRIBED)


@pytest.mark.postgres
def test_the_migration_normalises_rows_saved_as_typed_and_merges_duplicates():
    """Rows as the old admin left them (the constraint is dropped for the test's transaction,
    which rolls back): each address ends up once, lower case, with its oldest entry's reason."""
    migration = importlib.import_module("campaigns.migrations.0006_suppression_email_normalised")
    constraint = next(c for c in Suppression._meta.constraints
                      if c.name == "suppression_email_normalised")
    with connection.schema_editor() as editor:
        editor.remove_constraint(Suppression, constraint)
    now = timezone.now()
    rows = [("Bob@Example.com", "unsubscribed", 3), ("bob@example.com", "bounced", 2),
            ("BOB@EXAMPLE.COM ", "complained", 1), ("Ann@Example.com", "erased", 1),
            ("carl@example.com", "bounced", 1)]
    for email, reason, days_ago in rows:
        Suppression.objects.filter(pk=Suppression.objects.create(email=email, reason=reason).pk
                                   ).update(created_at=now - dt.timedelta(days=days_ago))

    with connection.schema_editor() as editor:
        migration.normalise_suppressions(_Apps(), editor)
        editor.add_constraint(Suppression, constraint)

    assert sorted(Suppression.objects.values_list("email", "reason")) == [
        ("ann@example.com", "erased"), ("bob@example.com", "unsubscribed"),
        ("carl@example.com", "bounced")]


class _Apps:
    """The migration's model registry: today's model has the same fields."""

    def get_model(self, app_label: str, name: str):
        return Suppression
