from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from .services import user_language_set


@require_POST
def language_update(request: HttpRequest) -> HttpResponse:
    """The navbar's language switch: saves the choice on the user, then Django's set_language
    sets the language cookie (used once logged out) and redirects back to `next`.

    Login is required by LoginRequiredMiddleware and the CSRF token by CsrfViewMiddleware.
    """
    try:
        user_language_set(user=request.user, language=request.POST.get("language", ""))
    except ValidationError as error:
        return HttpResponseBadRequest(" ".join(error.messages))
    return set_language(request)
