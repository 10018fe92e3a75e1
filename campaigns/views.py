"""Public pages reached from emails: no login, no session, the signed token is the only key."""
from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from customers.consent.models import ConsentMethod
from customers.language import activate_contact_language
from customers.models import Contact

from .suppression import contact_unsubscribe
from .tokens import unsubscribe_token_contact_id


def _contact_for(token: str) -> Contact | None:
    try:
        contact_id = unsubscribe_token_contact_id(token)
    except signing.BadSignature:
        return None
    return Contact.objects.filter(pk=contact_id).first()


# CSRF protection is off for this view only, on purpose: RFC 8058 one-click unsubscribe means
# mail clients POST "List-Unsubscribe=One-Click" to this URL with no cookie and no CSRF token,
# and the confirmation page is often opened in a browser with no session at all. CSRF guards
# actions a logged-in session could be tricked into; here there is no session to abuse, and
# the signed token in the URL is the whole authorisation (an attacker who knows it could
# unsubscribe that one contact by POSTing directly anyway). GET only shows a page, so link
# scanners that follow every link unsubscribe nobody.
@csrf_exempt
@login_not_required
@never_cache
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    contact = _contact_for(token)
    if contact is None:
        return render(request, "campaigns/unsubscribe_invalid.html", status=400)
    activate_contact_language(request, contact)
    if request.method == "POST":
        # RFC 8058: a mail client's one-click POST carries this body; the page's button does not.
        one_click = request.POST.get("List-Unsubscribe") == "One-Click"
        contact_unsubscribe(contact=contact, source="unsubscribe-link",
                            method=ConsentMethod.ONE_CLICK if one_click
                            else ConsentMethod.UNSUBSCRIBE_LINK)
        return render(request, "campaigns/unsubscribe_done.html", {"email": contact.email})
    return render(request, "campaigns/unsubscribe_confirm.html", {"email": contact.email})
