"""The admin pages (secrets never shown, bodies escaped), the deploy check, the schedules."""
import pytest
from django.core.checks import run_checks

from crm.schedules import DEFAULT_SCHEDULES
from shops.checks import encryption_keys_check
from shops.tests.helpers import deliver
from shops.tests.stub_platform import order_json

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_the_store_page_never_shows_secrets(admin_client, driver):
    store = driver.store()

    page = admin_client.get(f"/admin/shops/store/{store.pk}/change/").content.decode()

    assert store.name in page
    assert store.credentials_encrypted not in page and "whsec-test-secret" not in page
    assert store.webhook_token not in page and driver.api.token not in page


def test_a_delivery_body_is_shown_escaped(admin_client, driver):
    store = driver.store()
    delivery = deliver(store, *driver.delivery("ping", b'{"note": "<script>alert(1)</script>"}'))

    page = admin_client.get(f"/admin/shops/webhookdelivery/{delivery.pk}/change/")

    text = page.content.decode()
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text and "<script>alert(1)" not in text


def test_the_lists_load(admin_client, driver):
    store = driver.store()
    deliver(store, *driver.order_delivery(order_json(1)))
    for model in ("store", "shoporder", "webhookdelivery", "syncjob"):
        assert admin_client.get(f"/admin/shops/{model}/").status_code == 200


def test_production_without_an_encryption_key_is_an_error(settings):
    settings.CRM_SHOPS_ENCRYPTION_KEYS = ""
    assert [error.id for error in encryption_keys_check(None)] == ["shops.E001"]
    settings.CRM_SHOPS_ENCRYPTION_KEYS = "not-a-key"
    assert [error.id for error in encryption_keys_check(None)] == ["shops.E001"]
    settings.CRM_SHOPS_ENCRYPTION_KEYS = "x7Q3x1oVNvdxbQF9sm2mXkNfWPmCOW6XAJtKwTHCKAk="
    assert encryption_keys_check(None) == []


def test_the_check_runs_with_deploy_only(settings):
    settings.CRM_SHOPS_ENCRYPTION_KEYS = ""
    assert "shops.E001" not in [error.id for error in run_checks()]
    assert "shops.E001" in [error.id for error in run_checks(include_deployment_checks=True)]


def test_the_shop_tasks_are_scheduled():
    tasks = {schedule.task: schedule for schedule in DEFAULT_SCHEDULES}
    assert tasks["shops.sweep_deliveries"].every_minutes == 1
    assert tasks["shops.poll_stores"].every_minutes == 60
