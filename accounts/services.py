from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import User


def user_language_set(*, user: User, language: str) -> None:
    """Remember the user's language; every later request (and login) uses it."""
    if language and language not in dict(settings.LANGUAGES):
        raise ValidationError(_("Unknown language: %(code)s.") % {"code": language})
    user.language = language
    user.save(update_fields=["language"])
