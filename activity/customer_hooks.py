"""What activity adds to the contact page (registered in ActivityConfig.ready())."""
from customers import hooks

from .selectors import contact_events_section


def _contact_page(request, contact) -> dict:
    if not request.user.has_perm("activity.view_websiteevent"):
        return {}
    return contact_events_section(contact=contact)


def register() -> None:
    hooks.contact_page.register(_contact_page)
