"""The webhook door: POST /shops/webhooks/<store token>/.

Fast and small on purpose (a platform waits a few seconds, then retries and, after enough
failures, disables the webhook): find the store by its token, refuse a body over
CRM_SHOPS_WEBHOOK_MAX_BYTES (413, read no further), verify the signature (401, logged,
nothing stored), store the delivery and queue its processing after commit (200). The work is
done by the worker (shops.services.deliveries); a broker that is down does not change the
answer (the sweep processes what was stored).

No session, no CSRF token, no login: the signature is the authentication. The token's store
is kept per process for a few seconds (shops.webhook_tokens).
"""
import logging

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .platforms.base import WebhookRefused
from .services.deliveries import delivery_receive
from .webhook_tokens import store_for

logger = logging.getLogger(__name__)


def _too_large() -> HttpResponse:
    return HttpResponse("Payload too large.", status=413, content_type="text/plain")


@csrf_exempt
@login_not_required
@require_POST
def webhook(request: HttpRequest, token: str) -> HttpResponse:
    found = store_for(token)
    if found is None:
        raise Http404
    store, access = found
    limit = int(settings.CRM_SHOPS_WEBHOOK_MAX_BYTES)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        logger.warning("Shop webhook for store %s refused: %s bytes is over the limit (%s)",
                       store.key, length, limit)
        return _too_large()
    body = request.read(limit + 1)
    if len(body) > limit:
        logger.warning("Shop webhook for store %s refused: the body is over the limit (%s)",
                       store.key, limit)
        return _too_large()
    platform = store.platform_impl
    try:
        platform.verify_webhook(access, request.headers, body)
    except WebhookRefused as refused:
        logger.warning("Shop webhook for store %s refused (HTTP %s): %s (from %s); nothing "
                       "stored", store.key, refused.status, refused.message,
                       request.META.get("REMOTE_ADDR", ""))
        return HttpResponse(status=refused.status)
    delivery_receive(store, platform.delivery_meta(request.headers), body)
    return HttpResponse(status=200)
