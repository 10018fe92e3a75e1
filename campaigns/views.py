"""Public pages reached from emails (no login, no session, the signed token is the only key),
and the staff page of the emails sent (campaigns' outbox), each readable as it was sent."""
from csp.decorators import csp
from django.contrib.auth.decorators import login_not_required, permission_required
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from customers.consent.models import ConsentMethod
from customers.language import activate_contact_language
from customers.models import Contact

from .admin import EMAIL_PREVIEW_POLICY
from .models import Message
from .selectors import sent_message_rendered, sent_messages
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


# --- Sent emails: for staff who may read the outbox (managers; sales staff, read-only) -------

SENT_PER_PAGE = 50
_VIEW_MESSAGES = "campaigns.view_message"


@require_safe
@permission_required(_VIEW_MESSAGES, raise_exception=True)
def sent_email_list(request: HttpRequest) -> HttpResponse:
    """What campaigns sent (or are about to send): recipient, campaign, status and time."""
    status = request.GET.get("status", "")
    if status not in Message.Status.values:
        status = ""
    page = Paginator(sent_messages(status=status), SENT_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "campaigns/sent_email_list.html", {
        "page_obj": page, "status": status, "statuses": Message.Status.choices})


@require_safe
@permission_required(_VIEW_MESSAGES, raise_exception=True)
def sent_email_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One email as its recipient gets it: subject and plain text here, the HTML part in a
    sandboxed frame from its own URL (sent_email_html)."""
    message = get_object_or_404(Message.objects.select_related("campaign", "contact"), pk=pk)
    rendered, error = None, ""
    try:
        rendered = sent_message_rendered(message)
    except ValidationError as problem:
        error = " ".join(problem.messages)
    return render(request, "campaigns/sent_email_detail.html", {
        "message": message, "rendered": rendered, "error": error})


@require_safe
@permission_required(_VIEW_MESSAGES, raise_exception=True)
@csp(EMAIL_PREVIEW_POLICY)
@xframe_options_sameorigin
def sent_email_html(request: HttpRequest, pk: int) -> HttpResponse:
    """The HTML part alone, under the email preview's policy: no script at all, an opaque
    origin (sandbox: no cookies, no access to the page around it), framed by our pages only
    (src, not srcdoc: a srcdoc frame would inherit the page's policy and lose the email's
    inline styles)."""
    message = get_object_or_404(Message.objects.select_related("campaign", "contact"), pk=pk)
    try:
        rendered = sent_message_rendered(message)
    except ValidationError as problem:
        return HttpResponse(" ".join(problem.messages), content_type="text/plain; charset=utf-8")
    return HttpResponse(rendered.html, content_type="text/html; charset=utf-8")


# --- Deliverability: for managers ------------------------------------------------------------

_MANAGE_SENDING = "campaigns.change_sendingpause"


def deliverability_resolver():
    """The DNS resolver the page uses (tests replace it)."""
    from .deliverability import DnsResolver

    return DnsResolver()


@require_safe
@never_cache
@permission_required(_MANAGE_SENDING, raise_exception=True)
def deliverability(request: HttpRequest) -> HttpResponse:
    """SPF, DKIM, DMARC, alignment, bounce and complaint rates, and the sending pause."""
    from .deliverability import report
    from .outbox.checks import sending_pause
    from .sending_pause import active_pause, pause_text

    pause = active_pause()
    return render(request, "campaigns/deliverability.html", {
        "findings": report(deliverability_resolver()),
        "pause": pause, "pause_text": pause_text(pause) if pause else "",
        "stopped": bool(sending_pause()) and pause is None})


@require_http_methods(["POST"])
@permission_required(_MANAGE_SENDING, raise_exception=True)
def sending_resume_view(request: HttpRequest) -> HttpResponse:
    from django.contrib import messages
    from django.shortcuts import redirect
    from django.utils.translation import gettext as _

    from .sending_pause import sending_resume

    if sending_resume(by=request.user):
        messages.success(request, _("Sending resumed: queued emails go out within a minute."))
    else:
        messages.info(request, _("Sending was not paused."))
    return redirect("campaigns:deliverability")
