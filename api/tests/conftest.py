import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from api.tests.helpers import token_client


@pytest.fixture(autouse=True)
def fresh_throttles():
    """Throttle counters live in the cache: one test's requests must not slow the next."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def sales_api(sales_user) -> APIClient:
    return token_client(sales_user)


@pytest.fixture
def manager_api(manager) -> APIClient:
    return token_client(manager)


@pytest.fixture
def no_role_api(db) -> APIClient:
    return token_client(UserFactory(username="norole"))


@pytest.fixture
def anonymous_api() -> APIClient:
    return APIClient()
