"""Suite-wide fixtures and the rules for tests that need real services.

Tests marked postgres/redis/browser/nginx are skipped when that service is missing, except where
CI sets CRM_REQUIRE_POSTGRES / CRM_REQUIRE_REDIS / CRM_REQUIRE_BROWSER / CRM_REQUIRE_NGINX: there
a missing service fails the run instead of quietly skipping.
"""
import os
import shutil

import pytest
from django.conf import settings

BROWSER_PATH = os.environ.get("CRM_CHROMIUM", "/usr/bin/chromium")
NGINX_PATH = os.environ.get("CRM_NGINX", "/usr/sbin/nginx")
# The browser fixtures (one Chromium per session, a fresh page per test) and the real-worker
# fixture, registered once for the whole suite.
pytest_plugins = ["crm.tests.browser", "crm.tests.workers"]


def _available(marker: str) -> bool:
    if marker == "postgres":
        return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    if marker == "redis":
        return bool(settings.REDIS_URL)
    if marker == "browser":
        return bool(shutil.which(BROWSER_PATH))
    if marker == "nginx":
        return bool(shutil.which(NGINX_PATH))
    return True


@pytest.fixture(scope="session", autouse=True)
def compiled_translations():
    """A fresh clone has no .mo files (they are built at install time): build stale ones."""
    from pathlib import Path

    from django.utils.translation.reloader import translation_file_changed

    from crm.translations import catalog_files, compile_catalog, is_stale

    stale = [po for po in catalog_files(settings.LOCALE_PATHS) if is_stale(po)]
    for po in stale:
        compile_catalog(po)
    if stale:  # forget catalogs loaded before (as runserver's autoreloader does)
        translation_file_changed(sender=None, file_path=Path("django.mo"))


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker in ("postgres", "redis", "browser", "nginx"):
            if marker in item.keywords and not _available(marker):
                if os.environ.get(f"CRM_REQUIRE_{marker.upper()}") == "1":
                    raise pytest.UsageError(f"{marker} is required (CRM_REQUIRE_{marker.upper()}=1) "
                                            f"but not available")
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}"))


@pytest.fixture
def sales_user(db):
    from accounts.tests.factories import SalesStaffFactory

    return SalesStaffFactory(username="sally")


@pytest.fixture
def manager(db):
    from accounts.tests.factories import ManagerFactory

    return ManagerFactory(username="marta")


@pytest.fixture
def sales_client(client, sales_user):
    client.force_login(sales_user)
    return client


@pytest.fixture(autouse=True)
def default_language():
    """A request in Turkish leaves Turkish active in the thread: start every test in English."""
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True)
def fresh_channel_mapping():
    """customers.channels keeps the channel mapping per process: each test reads its own."""
    from customers.channels import channel_mapping_forget

    channel_mapping_forget()
    yield
    channel_mapping_forget()


@pytest.fixture(autouse=True)
def shop_settings_fresh():
    """crm.shop caches the shop's settings per process: a rolled-back row must not outlive its
    test. Every test starts as a fresh install (no saved row), already cached."""
    from crm.shop import shop_cache_assume_unsaved, shop_cache_clear

    shop_cache_assume_unsaved()
    yield
    shop_cache_clear()
