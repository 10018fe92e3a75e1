"""Small HTTP helpers shared by the apps' views."""
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme


def redirect_back(request: HttpRequest, *, field: str, fallback: str) -> HttpResponseRedirect:
    """Back to the page named in POST[field] if it is on this site, else to `fallback`
    (never an open redirect to another host)."""
    target = request.POST.get(field, "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        target = fallback
    return HttpResponseRedirect(target)
