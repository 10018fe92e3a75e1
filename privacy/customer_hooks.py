"""What privacy adds to the Contact admin (registered in PrivacyConfig.ready())."""
from customers import hooks


def _contact_admin_actions() -> list:
    from .admin_actions import privacy_contact_actions  # the admin's, loaded after ready()

    return privacy_contact_actions()


def register() -> None:
    hooks.contact_admin_actions.register(_contact_admin_actions)
