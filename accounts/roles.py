"""The two roles: managers (the admin, everything) and sales staff (the dashboard).

A role is a Django group. ROLE_PERMISSIONS is the single source of truth, applied after every
migrate (post_migrate) so a fresh database and an upgraded one end with the same groups; the
data migration 0002 carries its own frozen copy.
"""
from collections.abc import Iterable

MANAGERS = "Managers"
SALES_STAFF = "Sales staff"

# "app_label.*" means every permission of that app.
ROLE_PERMISSIONS: dict[str, list[str]] = {
    MANAGERS: [
        "accounts.*",
        "customers.*",
        "campaigns.*",
        "django_celery_beat.*",
        "feedback.*",
        "support.*",
        "privacy.*",
        "webhooks.*",
        "shops.*",
        "activity.*",
        "dashboard.*",
        "authtoken.*",
        "auth.view_group",
    ],
    SALES_STAFF: [
        "customers.view_contact",
        "customers.add_contact",
        "customers.change_contact",
        "customers.view_purchase",
        "customers.add_purchase",
        "customers.view_currencyrate",
        "customers.view_contactscore",
        "customers.view_note",
        "customers.add_note",
        "customers.view_followup",
        "customers.add_followup",
        "customers.change_followup",
        "customers.view_calllog",
        "customers.add_calllog",
        "campaigns.view_message",
        "campaigns.view_coupon",
        "campaigns.view_campaign",
        "feedback.view_surveyresponse",
        "support.view_case",
        "support.add_case",
        "support.change_case",
        "activity.view_websiteevent",
        # The consent history on the contact page: why someone may or may not be emailed.
        "customers.view_consentrecord",
        "customers.view_consentwording",
    ],
}


def _permissions_for(Permission, specs: Iterable[str]):  # noqa: N803 - a model class
    for spec in specs:
        app_label, codename = spec.split(".", 1)
        perms = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            perms = perms.filter(codename=codename)
        yield from perms


def sync_role_permissions(Group, Permission) -> None:  # noqa: N803 - model classes
    """Create the role groups and give each exactly the permissions ROLE_PERMISSIONS lists."""
    for name, specs in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(list(_permissions_for(Permission, specs)))


def _in_group(user, name: str) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    # Cached on the user object: templates and permission checks ask several times a request.
    cache = user.__dict__.setdefault("_crm_groups", {})
    if name not in cache:
        cache[name] = user.groups.filter(name=name).exists()
    return cache[name]


def is_manager(user) -> bool:
    return bool(user and user.is_authenticated and user.is_active and user.is_superuser) or (
        _in_group(user, MANAGERS)
    )


def is_sales_staff(user) -> bool:
    return _in_group(user, SALES_STAFF)
