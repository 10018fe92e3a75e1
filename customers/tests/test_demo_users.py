"""The demo logins have email addresses, so "Send a test" works in the demo."""
import pytest
from django.core import mail
from django.urls import reverse

from accounts.models import User
from accounts.roles import MANAGERS, SALES_STAFF
from accounts.tests.factories import role_group
from campaigns.models import EmailTemplate
from dashboard.management.commands.load_demo_data import DEMO_USERS, Command
from customers.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_users(tmp_path, monkeypatch):
    monkeypatch.setattr("dashboard.management.commands.load_demo_data.LOGINS_FILE",
                        tmp_path / "demo_logins.json")
    role_group(MANAGERS), role_group(SALES_STAFF)
    return Command()._users


def test_every_demo_user_has_an_address_also_when_loaded_before(demo_users):
    User.objects.create(username="manager", first_name="Maria")  # an older demo: no address

    demo_users()

    emails = dict(User.objects.values_list("username", "email"))
    assert emails == {username: f"{username}@example.com" for username, *_rest in DEMO_USERS}


def test_the_demo_manager_can_send_a_test(client, demo_users):
    demo_users()
    client.force_login(User.objects.get(username="manager"))
    template = EmailTemplate.objects.get(name="Second order coupon")
    contact = ContactFactory(first_name="Ada")

    response = client.post(reverse("admin:campaigns_template_send_test", args=[template.pk]),
                           {"contact": contact.pk}, follow=True)

    assert "Test sent to manager@example.com" in response.content.decode()
    [email] = mail.outbox
    assert email.to == ["manager@example.com"] and "Ada" in email.subject
