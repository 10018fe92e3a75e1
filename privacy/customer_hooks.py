"""What privacy adds to the contact page (registered in PrivacyConfig.ready())."""
from customers import hooks

from .selectors import contact_consent_history


def _contact_page(request, contact) -> dict:
    if not request.user.has_perm("privacy.view_consentrecord"):
        return {}
    return {"consent_history": contact_consent_history(contact=contact)}


def _contact_admin_actions() -> list:
    from .admin_actions import privacy_contact_actions  # the admin's, loaded after ready()

    return privacy_contact_actions()


def register() -> None:
    hooks.contact_page.register(_contact_page)
    hooks.contact_admin_actions.register(_contact_admin_actions)
