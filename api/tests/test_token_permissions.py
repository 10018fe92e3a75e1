"""A token request reads its user's permissions with the token: same answers, one query."""
import pytest
from django.contrib.auth.models import Group, Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIRequestFactory

from accounts.models import User
from accounts.roles import SALES_STAFF
from accounts.tests.factories import SalesStaffFactory, UserFactory
from api.authentication import TokenAuthentication
from api.tests.helpers import token_client

pytestmark = pytest.mark.django_db


def _authenticate(key: str) -> User:
    request = APIRequestFactory().get("/api/contacts/", HTTP_AUTHORIZATION=f"Token {key}")
    user, _token = TokenAuthentication().authenticate(request)
    return user


def test_permissions_match_the_model_backend_in_one_query(django_assert_num_queries):
    user = SalesStaffFactory(username="shop")
    user.user_permissions.add(Permission.objects.get(codename="delete_note"))
    key = Token.objects.create(user=user).key

    with django_assert_num_queries(1):
        authenticated = _authenticate(key)
        permissions = authenticated.get_all_permissions()

    assert permissions == User.objects.get(pk=user.pk).get_all_permissions()
    assert {"customers.delete_note", "customers.add_purchase"} <= permissions


def test_user_without_any_permission_has_none():
    key = Token.objects.create(user=UserFactory(username="bare")).key

    assert _authenticate(key).get_all_permissions() == set()


def test_a_removed_role_is_refused_on_the_next_request():
    user = SalesStaffFactory(username="shop")
    client = token_client(user)
    assert client.get("/api/contacts/").status_code == 200

    user.groups.remove(Group.objects.get(name=SALES_STAFF))

    assert client.get("/api/contacts/").status_code == 403


def test_superuser_token_may_do_everything():
    client = token_client(UserFactory(username="root", is_superuser=True))

    assert client.get("/api/campaigns/").status_code == 200
