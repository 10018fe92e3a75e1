"""The managers' store pages (shops.store_views): who may, adding and changing a store with its
secrets never shown and stored encrypted, testing the connection against the stub platform's
fake API, starting a back-fill once, and the status in plain words."""
import datetime as dt
import socket

import pytest
from cryptography.fernet import Fernet
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from shops.models import Store, SyncJob
from shops.platforms import register
from shops.selectors import store_lag
from shops.services.stores import (
    store_create,
    store_new_webhook_secret,
    store_test_connection,
    store_update,
    store_webhook_url,
)
from shops.tests.stub_platform import StubPlatform

pytestmark = pytest.mark.django_db

SECRET_TOKEN = "good-token"


class StubChosenSecretPlatform(StubPlatform):
    """The stub platform, but the CRM makes up the webhook secret (as for WooCommerce)."""

    key = "stubchosen"
    label = "Stub shop (our secret)"
    webhook_secret_generated = True


register(StubChosenSecretPlatform())


@pytest.fixture
def manager_client(client, manager):
    client.force_login(manager)
    return client


@pytest.fixture
def store(stub_api):
    return store_create(platform="stubshop", name="Web shop", key="web",
                        base_url=stub_api.base_url, credentials={"token": SECRET_TOKEN},
                        webhook_secret="hook-secret")


def _add(client, base_url, **fields):
    data = {"name": "Web shop", "key": "web", "base_url": base_url,
            "credential_token": SECRET_TOKEN, "webhook_secret": "hook-secret", **fields}
    return client.post(reverse("stores:store_add") + "?platform=stubshop", data)


# --- Who may ---------------------------------------------------------------------------------

def test_sales_staff_and_anonymous_are_refused(client, sales_client, store):
    pages = [reverse("stores:store_list"), reverse("stores:store_add"),
             reverse("stores:store_detail", args=[store.pk]),
             reverse("stores:store_edit", args=[store.pk])]
    posts = [reverse("stores:store_test", args=[store.pk]),
             reverse("stores:store_sync", args=[store.pk, "backfill"]),
             reverse("stores:store_active", args=[store.pk])]
    for url in pages:
        assert sales_client.get(url).status_code == 403
    for url in posts:
        assert sales_client.post(url).status_code == 403
    anonymous = Client()
    for url in pages + posts:
        response = anonymous.post(url) if url in posts else anonymous.get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]
    assert not SyncJob.objects.exists()


def test_the_buttons_need_the_csrf_token(manager, store):
    client = Client(enforce_csrf_checks=True)
    client.force_login(manager)
    for url in (reverse("stores:store_test", args=[store.pk]),
                reverse("stores:store_sync", args=[store.pk, "backfill"]),
                reverse("stores:store_active", args=[store.pk]),
                reverse("stores:store_add") + "?platform=stubshop"):
        assert client.post(url).status_code == 403
    assert not SyncJob.objects.exists()
    assert Store.objects.get().active


def test_managers_see_the_stores_link(manager, sales_user):
    link = f'href="{reverse("stores:store_list")}"'.encode()
    for user, shown in ((manager, True), (sales_user, False)):
        client = Client()
        client.force_login(user)
        assert (link in client.get(reverse("dashboard:today")).content) is shown


# --- Adding and changing a store ---------------------------------------------------------------

def test_choosing_the_platform_then_its_form(manager_client):
    choose = manager_client.get(reverse("stores:store_add"))
    assert b"?platform=stubshop" in choose.content
    form = manager_client.get(reverse("stores:store_add") + "?platform=stubshop")
    assert b'name="credential_token"' in form.content
    assert b'type="password"' in form.content
    assert manager_client.get(reverse("stores:store_add") + "?platform=nope").status_code == 404


def test_a_store_is_added_with_its_secrets_encrypted(manager_client, stub_api):
    response = _add(manager_client, stub_api.base_url + "/")

    store = Store.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("stores:store_detail", args=[store.pk])
    assert (store.platform, store.name, store.key) == ("stubshop", "Web shop", "web")
    assert store.base_url == stub_api.base_url
    assert store.credentials() == {"token": SECRET_TOKEN}
    assert store.webhook_secret() == "hook-secret"
    assert SECRET_TOKEN not in store.credentials_encrypted
    assert "hook-secret" not in store.webhook_secret_encrypted


def test_secrets_are_never_shown_again(manager_client, store):
    pages = [manager_client.get(reverse("stores:store_edit", args=[store.pk])),
             manager_client.get(reverse("stores:store_detail", args=[store.pk])),
             manager_client.get(reverse("stores:store_list"))]
    for page in pages:
        assert page.status_code == 200
        assert SECRET_TOKEN.encode() not in page.content
        assert b"hook-secret" not in page.content


def test_a_form_with_errors_does_not_echo_the_secret(manager_client, stub_api):
    response = _add(manager_client, "not an address")
    assert response.status_code == 200
    assert SECRET_TOKEN.encode() not in response.content
    assert not Store.objects.exists()


def test_a_blank_secret_keeps_the_stored_one(manager_client, store):
    response = manager_client.post(reverse("stores:store_edit", args=[store.pk]), {
        "name": "Web shop TR", "base_url": store.base_url, "credential_token": "",
        "webhook_secret": ""})

    assert response.status_code == 302
    store.refresh_from_db()
    assert store.name == "Web shop TR"
    assert store.credentials() == {"token": SECRET_TOKEN}
    assert store.webhook_secret() == "hook-secret"


def test_a_secret_given_replaces_the_stored_one_and_the_key_stays(manager_client, store):
    manager_client.post(reverse("stores:store_edit", args=[store.pk]), {
        "name": "Web shop", "key": "other", "base_url": store.base_url,
        "credential_token": "new-token", "webhook_secret": "new-hook"})

    store.refresh_from_db()
    assert store.credentials() == {"token": "new-token"}
    assert store.webhook_secret() == "new-hook"
    assert (store.key, store.platform) == ("web", "stubshop")


def test_credentials_no_key_opens_can_be_entered_again(manager_client, store, settings):
    settings.CRM_SHOPS_ENCRYPTION_KEYS = Fernet.generate_key().decode()  # the old key is lost

    assert manager_client.get(reverse("stores:store_edit", args=[store.pk])).status_code == 200
    page = manager_client.post(reverse("stores:store_test", args=[store.pk]), follow=True)
    assert "Stored credentials unreadable" in page.content.decode()
    manager_client.post(reverse("stores:store_edit", args=[store.pk]), {
        "name": "Web shop", "base_url": store.base_url, "credential_token": SECRET_TOKEN,
        "webhook_secret": "hook-secret"})

    store.refresh_from_db()
    assert (store.credentials(), store.webhook_secret()) == ({"token": SECRET_TOKEN},
                                                             "hook-secret")
    assert store_test_connection(store=store).ok


def test_a_key_in_use_is_refused_clearly(manager_client, store, stub_api):
    response = _add(manager_client, stub_api.base_url, key="web")
    assert response.status_code == 200
    assert "Another store already has the key" in response.content.decode()
    assert Store.objects.count() == 1


def test_a_key_must_be_a_slug(manager_client, stub_api):
    response = _add(manager_client, stub_api.base_url, key="Web Shop!")
    assert response.status_code == 200
    assert not Store.objects.exists()


def test_an_http_or_private_address_is_refused_outside_development(manager_client, settings,
                                                                   monkeypatch):
    settings.CRM_SHOPS_ALLOW_PRIVATE_ADDRESSES = False
    plain = _add(manager_client, "http://shop.example.com")
    assert "https://" in plain.content.decode()
    private = _add(manager_client, "https://10.1.2.3")
    assert "private network" in private.content.decode()
    monkeypatch.setattr(socket, "getaddrinfo", lambda *args, **kwargs: [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 443))])
    resolving = _add(manager_client, "https://shop.example.com")
    assert "private network" in resolving.content.decode()
    assert not Store.objects.exists()


def test_the_crm_makes_up_the_secret_where_the_platform_lets_it(manager_client, stub_api):
    form = manager_client.get(reverse("stores:store_add") + "?platform=stubchosen")
    assert b'name="webhook_secret"' not in form.content
    manager_client.post(reverse("stores:store_add") + "?platform=stubchosen", {
        "name": "Woo", "key": "woo", "base_url": stub_api.base_url,
        "credential_token": SECRET_TOKEN})
    store = Store.objects.get()
    secret = store.webhook_secret()
    assert len(secret) >= 32

    page = manager_client.get(reverse("stores:store_detail", args=[store.pk]))
    assert secret.encode() in page.content  # the manager pastes it into the store

    manager_client.post(reverse("stores:store_webhook_secret", args=[store.pk]))
    store.refresh_from_db()
    assert store.webhook_secret() not in ("", secret)


def test_a_platforms_own_secret_is_not_made_up(store):
    with pytest.raises(ValueError):
        store_new_webhook_secret(store=store)
    assert store.webhook_secret() == "hook-secret"


def test_the_webhook_address_is_absolute_with_the_topics(manager_client, store, settings):
    settings.CRM_PUBLIC_URL = "https://crm.example.com/"
    page = manager_client.get(reverse("stores:store_detail", args=[store.pk])).content.decode()
    url = f"https://crm.example.com/shops/webhooks/{store.webhook_token}/"
    assert store_webhook_url(store) == url
    assert url in page
    assert "<code>order.created</code>" in page and "<code>refund.created</code>" in page


def test_switching_a_store_off_and_on(manager_client, store):
    manager_client.post(reverse("stores:store_active", args=[store.pk]), {"active": "0"})
    store.refresh_from_db()
    assert not store.active
    assert manager_client.post(reverse("stores:store_sync", args=[store.pk, "poll"])
                               ).status_code == 302
    assert not SyncJob.objects.exists()
    manager_client.post(reverse("stores:store_active", args=[store.pk]), {"active": "1"})
    store.refresh_from_db()
    assert store.active


# --- Test connection ---------------------------------------------------------------------------

def test_the_connection_works(manager_client, store):
    store_update(store=store, name=store.name, base_url=store.base_url, credentials={})
    Store.objects.filter(pk=store.pk).update(last_error="old", last_error_kind="auth",
                                             last_error_at=timezone.now())

    response = manager_client.post(reverse("stores:store_test", args=[store.pk]), follow=True)

    assert "Connected to Stub Shop." in response.content.decode()
    store.refresh_from_db()
    assert (store.last_error, store.last_error_kind, store.last_error_at) == ("", "", None)


def test_expired_credentials_are_reported_and_recorded(manager_client, store, stub_api):
    stub_api.expire_credentials()

    response = manager_client.post(reverse("stores:store_test", args=[store.pk]), follow=True)

    page = response.content.decode()
    assert "The connection failed" in page and "HTTP 401" in page
    store.refresh_from_db()
    assert store.last_error_kind == "auth" and store.last_error_at is not None
    assert "Credentials refused" in page


def test_wrong_credentials_are_reported(store):
    store_update(store=store, name=store.name, base_url=store.base_url,
                 credentials={"token": "wrong"})
    result = store_test_connection(store=store)
    assert not result.ok and result.kind == "auth"


def test_an_unreachable_store_is_reported(manager_client, store):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    Store.objects.filter(pk=store.pk).update(base_url=f"http://127.0.0.1:{port}")
    store.refresh_from_db()

    result = store_test_connection(store=store)

    assert not result.ok and result.kind == "unavailable"
    page = manager_client.get(reverse("stores:store_list")).content.decode()
    assert "Store unreachable" in page


def test_a_server_error_then_success_is_a_success(store, stub_api):
    stub_api.fail_next(503)
    assert store_test_connection(store=store).ok


# --- Back-fill and poll --------------------------------------------------------------------------

def test_the_backfill_button_starts_one_job(manager_client, store, manager):
    url = reverse("stores:store_sync", args=[store.pk, "backfill"])
    first = manager_client.post(url)
    second = manager_client.post(url)

    job = SyncJob.objects.get()
    assert (job.kind, job.status, job.started_by) == ("backfill", "queued", manager)
    assert first["Location"] == second["Location"] == reverse("stores:job_detail",
                                                              args=[job.pk])
    manager_client.post(reverse("stores:store_sync", args=[store.pk, "poll"]))
    assert SyncJob.objects.filter(kind="poll").count() == 1
    assert manager_client.post(reverse("stores:store_sync", args=[store.pk, "other"])
                               ).status_code == 404


def test_a_jobs_progress_page_and_json(manager_client, store):
    job = SyncJob.objects.create(store=store, kind="backfill", status="running",
                                 orders_seen=250, total=1000)

    page = manager_client.get(reverse("stores:job_detail", args=[job.pk])).content.decode()
    state = manager_client.get(reverse("stores:job_progress", args=[job.pk])).json()
    listing = manager_client.get(reverse("stores:store_list")).content.decode()

    assert '<progress class="shop-job-bar" max="100" value="25"' in page
    assert 'src="/static/js/shop-stores.js"' in page
    assert state["percent"] == 25 and state["orders_seen"] == 250 and not state["finished"]
    assert 'value="25"' in listing


def test_a_job_without_a_total_has_an_indeterminate_bar(manager_client, store):
    job = SyncJob.objects.create(store=store, kind="poll", status="done", orders_seen=3)
    page = manager_client.get(reverse("stores:job_detail", args=[job.pk])).content.decode()
    assert '<progress class="shop-job-bar" max="100" aria-label' in page
    assert manager_client.get(reverse("stores:job_progress", args=[job.pk])).json()["finished"]


# --- Status --------------------------------------------------------------------------------------

def test_lag_in_plain_words(store):
    now = timezone.now()
    assert store_lag(store, now).level == "never"
    store.last_webhook_at = now - dt.timedelta(minutes=12)
    assert store_lag(store, now).words == "Last heard from 12\xa0minutes ago."
    store.last_webhook_at = None
    store.last_poll_at = now - dt.timedelta(hours=5, minutes=3)
    lag = store_lag(store, now)
    assert (lag.level, lag.words) == ("behind", "Nothing heard from the store for 5\xa0hours.")
    store.active = False
    assert store_lag(store, now).level == "off"


def test_the_list_shows_each_stores_status(manager_client, store, django_assert_max_num_queries):
    now = timezone.now()
    Store.objects.filter(pk=store.pk).update(
        last_order_at=now, last_webhook_at=now - dt.timedelta(minutes=3),
        last_error="api.example.com refused the credentials (HTTP 401)",
        last_error_kind="auth", last_error_at=now)
    store_create(platform="stubshop", name="Second", key="second",
                 base_url="https://shop.example.com", credentials={"token": "t"},
                 webhook_secret="s")

    with django_assert_max_num_queries(8):
        page = manager_client.get(reverse("stores:store_list")).content.decode()

    assert 'data-store="web" data-lag="ok"' in page
    assert 'data-store="second" data-lag="never"' in page
    assert "Credentials refused" in page and "HTTP 401" in page


def test_a_hostile_store_name_is_escaped(manager_client, stub_api):
    _add(manager_client, stub_api.base_url, name="<script>alert(1)</script>")
    store = Store.objects.get()
    Store.objects.filter(pk=store.pk).update(last_error="<img src=x onerror=alert(1)>",
                                             last_error_kind="<b>", last_error_at=timezone.now())
    for url in (reverse("stores:store_list"), reverse("stores:store_detail", args=[store.pk]),
                reverse("stores:store_edit", args=[store.pk])):
        page = manager_client.get(url).content.decode()
        assert "<script>alert(1)" not in page and "<img src=x" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
