"""Who may own a contact: the one rule, for every door.

An owner is an active user with a role (sales staff or manager): the contact then appears on
someone's call list and overdue cases. Managers are included because the dashboard makes the
person who creates a contact its owner, and managers create contacts there too.

    eligible_owners()             # the choices the admin, dashboard and API offer
    owner_choices(current=7)      # the same, plus a current owner who has since left the roles
    owner_label(user)             # how a choice list names them (their display name)
    owner_validate(user)          # customers.services calls it on every owner change

The doors offer owner_choices() and answer a refused choice with OWNER_REFUSED, the message
the services raise, so an ineligible owner is refused the same way whichever door it came
through; the services check it again, so a door that forgets cannot store one.
"""
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.roles import MANAGERS, SALES_STAFF

OWNER_ROLES = (MANAGERS, SALES_STAFF)
OWNER_REFUSED = _("A contact's owner must be an active user with the sales staff or manager "
                  "role.")


def eligible_owners() -> QuerySet:
    """Active users in an owner role, in the order the choice lists show them."""
    User = get_user_model()  # noqa: N806 - a model class
    in_role = User.groups.through.objects.filter(group__name__in=OWNER_ROLES).values("user_id")
    return User.objects.filter(is_active=True, pk__in=in_role).order_by("username")


def owner_choices(*, current: int | None = None) -> QuerySet:
    """eligible_owners() plus the contact's current owner: one who has left the roles stays
    selectable, so saving another change to the contact does not silently drop them."""
    User = get_user_model()  # noqa: N806 - a model class
    if current is None:
        return eligible_owners()
    return User.objects.filter(Q(pk__in=eligible_owners().values("pk")) | Q(pk=current)
                               ).order_by("username")


def owner_label(user) -> str:
    """How an owner appears in a choice list: the name the lists and pages show ("Sam
    Seller"), the login name only for a user without one."""
    return user.display_name


def owner_is_eligible(user) -> bool:
    return user is not None and eligible_owners().filter(pk=user.pk).exists()


def owner_validate(user) -> None:
    """Nobody (None) is allowed; anyone else must be eligible, else ValidationError on owner."""
    if user is not None and not owner_is_eligible(user):
        raise ValidationError({"owner": ValidationError(OWNER_REFUSED, code="ineligible")})
