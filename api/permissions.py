"""Who may call what: the same model permissions the web UI checks (accounts.roles).

Each view names the permission one HTTP method needs (`required_permissions`), so the API
follows ROLE_PERMISSIONS without a second list of rules: sales staff read contacts and scores
and add contacts and purchases; changing a contact (owner included) needs change_contact.
"""
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
        return user.has_perm(permission)  # accounts.backends: one query, cached
