"""Token authentication that reads the user's permissions in the same query.

Every API call checks at least one model permission (api.permissions). DRF's token check
loads the token and user, and ModelBackend then asks twice more (the user's own permissions,
then its groups'): three round trips before any work. Here one query brings all three and
fills ModelBackend's per-request cache, so `user.has_perm` answers exactly as it would have.
"""
import functools

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models.expressions import RawSQL
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from crm.prepared import PreparedLookup

_SEPARATOR = ","  # never in an app label or a permission codename


class TokenAuthentication(authentication.TokenAuthentication):
    def authenticate_credentials(self, key: str):
        token = _TOKEN_WITH_PERMISSIONS.first(key=key)
        if token is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        names = token.permission_names
        token.user._perm_cache = set(names.split(_SEPARATOR)) if names else set()
        return token.user, token


@functools.cache
def _permission_names_sql(vendor: str) -> str:
    """'app_label.codename' of every permission the token's user holds, itself or through a
    group, joined by commas (NULL when none)."""
    user_permissions = get_user_model()._meta.get_field("user_permissions")
    user_groups = get_user_model()._meta.get_field("groups")
    group_permissions = Group._meta.get_field("permissions")
    quote = connection.ops.quote_name
    joined = "group_concat" if vendor == "sqlite" else "string_agg"
    token_user = f"{quote(Token._meta.db_table)}.{quote(Token._meta.get_field('user').column)}"
    return f"""
        SELECT {joined}(ct.{quote('app_label')} || '.' || p.{quote('codename')}, '{_SEPARATOR}')
        FROM {quote(Permission._meta.db_table)} p
        JOIN {quote(ContentType._meta.db_table)} ct ON ct.{quote('id')} = p.{quote('content_type_id')}
        WHERE p.{quote('id')} IN (
            SELECT up.{quote(user_permissions.m2m_reverse_name())}
            FROM {quote(user_permissions.m2m_db_table())} up
            WHERE up.{quote(user_permissions.m2m_column_name())} = {token_user}
            UNION
            SELECT gp.{quote(group_permissions.m2m_reverse_name())}
            FROM {quote(group_permissions.m2m_db_table())} gp
            JOIN {quote(user_groups.m2m_db_table())} ug
              ON ug.{quote(user_groups.m2m_reverse_name())} = gp.{quote(group_permissions.m2m_column_name())}
            WHERE ug.{quote(user_groups.m2m_column_name())} = {token_user}
        )"""


_TOKEN_WITH_PERMISSIONS = PreparedLookup(
    lambda key: Token.objects.select_related("user").annotate(
        permission_names=RawSQL(_permission_names_sql(connection.vendor), ())).filter(key=key),
    key="prepared-token-key",
)
