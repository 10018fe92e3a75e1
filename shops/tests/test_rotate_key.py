"""Rotating the key that encrypts stores' credentials (manage.py shops_rotate_key)."""
import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command

from shops.models import Store
from shops.services.stores import store_create

pytestmark = pytest.mark.django_db


def test_a_new_key_in_front_re_encrypts_every_store_and_the_old_one_can_go(settings, capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CRM_SHOPS_ENCRYPTION_KEYS = old
    store_create(platform="stubshop", name="Web", key="web", base_url="https://shop.example.com",
                 credentials={"token": "t0ken"}, webhook_secret="hook")

    settings.CRM_SHOPS_ENCRYPTION_KEYS = f"{new},{old}"
    call_command("shops_rotate_key")
    settings.CRM_SHOPS_ENCRYPTION_KEYS = new

    store = Store.objects.get()
    assert (store.credentials(), store.webhook_secret()) == ({"token": "t0ken"}, "hook")
    assert "1 stores" in capsys.readouterr().out


def test_a_store_no_key_opens_stops_the_command(settings):
    settings.CRM_SHOPS_ENCRYPTION_KEYS = Fernet.generate_key().decode()
    store_create(platform="stubshop", name="Web", key="web", base_url="https://shop.example.com",
                 credentials={"token": "t0ken"}, webhook_secret="hook")
    settings.CRM_SHOPS_ENCRYPTION_KEYS = Fernet.generate_key().decode()

    with pytest.raises(CommandError, match="Store web"):
        call_command("shops_rotate_key")
