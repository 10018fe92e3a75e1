from django.contrib.auth.management import create_permissions
from django.db import migrations

# Frozen copy of accounts.roles.ROLE_PERMISSIONS as it was on 2026-12-07, the list this
# migration applied whenever it ran (it used to import the current one). Never edit it: the
# roles' later permissions come from accounts.roles on every migrate (post_migrate,
# accounts/apps.py); a change that must reach existing databases in a migration is a new one.
# "app_label.*" means every permission of that app (those that exist when this runs).
ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Managers": [
        "accounts.*",
        "customers.*",
        "campaigns.*",
        "django_celery_beat.*",
        "feedback.*",
        "support.*",
        "privacy.*",
        "webhooks.*",
        "activity.*",
        "authtoken.*",
        "auth.view_group",
    ],
    "Sales staff": [
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
        "campaigns.view_message",
        "campaigns.view_coupon",
        "campaigns.view_campaign",
        "feedback.view_surveyresponse",
        "support.view_case",
        "support.add_case",
        "support.change_case",
        "activity.view_websiteevent",
        "privacy.view_consentrecord",
        "privacy.view_consentwording",
    ],
}


def _permissions(Permission, specs):  # noqa: N803 - a model class
    for spec in specs:
        app_label, codename = spec.split(".", 1)
        perms = Permission.objects.filter(content_type__app_label=app_label)
        if codename != "*":
            perms = perms.filter(codename=codename)
        yield from perms


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations; the groups need them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, specs in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        group.permissions.set(list(_permissions(Permission, specs)))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("customers", "0001_initial"),
        ("crm", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_roles, migrations.RunPython.noop)]
