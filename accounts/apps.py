from django.apps import AppConfig, apps as global_apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles_after_migrate(sender, using, **kwargs) -> None:
    """Keep the role groups' permissions complete: new models get theirs on the next migrate.

    Runs once per migrate (and after tests flush the database), when the last app's
    permissions exist.
    """
    # post_migrate is sent once per app that has models, in INSTALLED_APPS order.
    with_models = [config for config in global_apps.get_app_configs() if config.models_module]
    if sender is not with_models[-1]:
        return
    from django.contrib.auth.models import Group, Permission

    from .roles import sync_role_permissions

    sync_role_permissions(Group, Permission)


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        post_migrate.connect(_sync_roles_after_migrate, dispatch_uid="accounts.sync_roles")
