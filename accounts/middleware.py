from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation


class UserLanguageMiddleware:
    """Show a signed-in user the CRM in the language they chose (accounts.User.language).

    LocaleMiddleware has already picked a language from the cookie or Accept-Language; it
    cannot see the user, so this runs after AuthenticationMiddleware and overrides that
    choice. Users without a choice, and anonymous pages, keep LocaleMiddleware's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated and user.language:
            translation.activate(user.language)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
