"""Who may call what: the same model permissions the web UI checks (accounts.roles).

Each view names the permission one HTTP method needs (`required_permissions`), so the API
follows ROLE_PERMISSIONS without a second list of rules: sales staff read contacts and scores
and add contacts and purchases; changing a contact (owner included) needs change_contact.
"""
from django.contrib.auth.models import Permission
from django.db.models import Q
from rest_framework.permissions import BasePermission

# HEAD and OPTIONS read what GET reads.
_READ_ALIASES = {"HEAD": "GET", "OPTIONS": "GET"}


class HasRolePermission(BasePermission):
    """Signed in (token or session), active, and holding the method's model permission."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        method = _READ_ALIASES.get(request.method, request.method)
        permission = getattr(view, "required_permissions", {}).get(method)
        if permission is None:
            # A method the view does not offer gets its 405; one it offers unmapped is refused.
            return method not in view.allowed_methods
        load_permissions(user)
        return user.has_perm(permission)


def load_permissions(user) -> None:
    """Fill ModelBackend's per-request permission cache with one query instead of its two
    (the user's own, then the groups'): every API call checks at least one permission."""
    if user.is_superuser or hasattr(user, "_perm_cache"):
        return
    rows = (Permission.objects.filter(Q(user=user) | Q(group__user=user))
            .values_list("content_type__app_label", "codename").distinct())
    user._perm_cache = {f"{app_label}.{codename}" for app_label, codename in rows}
