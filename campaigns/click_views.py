"""The click redirect and the open pixel (campaigns.clicks): public, no session, fast."""
import base64
import logging

from django.contrib.auth.decorators import login_not_required
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.views.decorators.http import require_safe

from .clicks import click_record, click_token_read, is_automated

logger = logging.getLogger(__name__)
# A transparent 1x1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _recorded(request: HttpRequest, token) -> None:
    if not is_automated(method=request.method or "", user_agent=request.headers.get(
            "User-Agent", ""), purpose=request.headers.get("Sec-Purpose", "")
            or request.headers.get("Purpose", "")):
        click_record(token)


@login_not_required
@require_safe
def click(request: HttpRequest, token: str) -> HttpResponse:
    """Count the click (campaigns.clicks says when it is not counted) and go to the link."""
    try:
        data = click_token_read(token)
    except signing.BadSignature:
        logger.warning("Click link refused: its signature does not verify (%.80s)", token)
        return render(request, "campaigns/click_invalid.html", status=400)
    if not data.url:
        return render(request, "campaigns/click_invalid.html", status=400)
    _recorded(request, data)
    response = HttpResponseRedirect(data.url)
    response["Referrer-Policy"] = "no-referrer"  # the token stays with us
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
@require_safe
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    try:
        data = click_token_read(token)
    except signing.BadSignature:
        return HttpResponse(PIXEL, content_type="image/gif", status=400)
    if not data.url:
        _recorded(request, data)
    response = HttpResponse(PIXEL, content_type="image/gif")
    response["Cache-Control"] = "no-store"
    return response
