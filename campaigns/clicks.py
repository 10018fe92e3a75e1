"""Clicks measured, privately: links in campaign emails go through a signed redirect that
records the first click per message and link.

- Rewriting (`links_rewrite`, from campaigns.rendering.build_email for outbox rows only, not
  previews or test sends): every http(s) link in the HTML (href) and text parts becomes
  `<CRM_PUBLIC_URL>/email/c/<token>/`, the token signing {message id, link} with the site's
  key (salt of our own), so nobody can make the redirect go anywhere else or count a click
  for another email. The CRM's own links (unsubscribe, surveys) stay as they are.
- The redirect (`click_token_read`, `click_record`, campaigns.click_views): a token that does
  not verify is refused with a page and a log line. A valid one always redirects; it is
  recorded once per (message, link) unless it is a HEAD request, a prefetch
  (Sec-Purpose/Purpose: prefetch), a known scanner or bot user agent, or comes within
  CRM_CLICK_IGNORE_SECONDS of the email's hand-off (security scanners follow every link as
  the email arrives), or the contact's data was erased. One INSERT ... SELECT, nothing read
  first: the redirect stays fast.
- Opens (`CRM_TRACK_OPENS`, off by default: a pixel tells when and where someone read an
  email, more than most contacts would expect): a 1x1 image at /email/o/<token>/, recorded
  once per message like a click with an empty link.
Who sees them: the contact's timeline, the campaign's results (click rate beside the holdout
uplift, which stays the measure of success), audiences and the buy-again model.
"""
import functools
import hashlib
import html
import logging
import re
from dataclasses import dataclass, replace

from django.conf import settings
from django.core import signing
from django.db import connection
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone

from .models import LinkClick, Message

logger = logging.getLogger(__name__)

SALT = "campaigns.click.v1"
_HREF = re.compile(r"""(href\s*=\s*)(["'])(https?://[^"']+)\2""", re.IGNORECASE)
_TEXT_URL = re.compile(r"https?://[^\s<>\"']+")
_TRAILING = ".,;:!?)]}'\""
# User agents of link scanners, previewers and bots (substrings, lower case).
BOT_AGENTS = (
    "bot", "spider", "crawl", "slurp", "preview", "scanner", "barracuda", "mimecast",
    "proofpoint", "forcepoint", "trendmicro", "safelinks", "microsoft office existence",
    "python-requests", "python-urllib", "curl/", "wget/", "go-http-client", "java/",
    "okhttp", "headlesschrome", "phantomjs", "googleimageproxy", "yahoomailproxy",
)


@dataclass(frozen=True)
class ClickToken:
    message_id: int
    url: str  # "" for an open


def _signer() -> signing.Signer:
    return signing.Signer(salt=SALT)


def click_token(message_id: int, url: str) -> str:
    return _signer().sign_object({"m": int(message_id), "u": url}, compress=True)


def click_token_read(token: str) -> ClickToken:
    """The message and link a token names; signing.BadSignature when it does not verify or is
    not one of ours."""
    data = _signer().unsign_object(token)
    if not isinstance(data, dict) or not isinstance(data.get("m"), int) or not isinstance(
            data.get("u"), str):
        raise signing.BadSignature("Malformed click token")
    url = data["u"]
    if url and not url.lower().startswith(("http://", "https://")):
        raise signing.BadSignature("A click token for something that is not a web link")
    return ClickToken(data["m"], url)


def _public(path: str) -> str:
    return settings.CRM_PUBLIC_URL.rstrip("/") + path


# What django.core.signing's tokens are made of: characters reverse() leaves as they are.
_URL_SAFE_TOKEN = re.compile(r"[A-Za-z0-9_.:-]+")
_MARKER = "0crmtoken0"


@functools.lru_cache(maxsize=64)
def _route(name: str, urlconf: str, script_prefix: str) -> tuple[str, str]:
    return tuple(reverse(name, args=[_MARKER], urlconf=urlconf).split(_MARKER))


def token_path(name: str, token: str) -> str:
    """reverse(name, args=[token]) for a route taking one signed token (click, open,
    unsubscribe), without resolving the route every time: reverse() costs about 0.1 ms, three
    times per email. The route's text around the token is found once (per URLconf and script
    prefix); a token with any other character than a signed token's goes through reverse()."""
    if not _URL_SAFE_TOKEN.fullmatch(token):
        return reverse(name, args=[token])
    before, after = _route(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return before + token + after


def click_url(message_id: int, url: str) -> str:
    return _public(token_path("campaigns:click", click_token(message_id, url)))


def open_url(message_id: int) -> str:
    return _public(token_path("campaigns:open", click_token(message_id, "")))


def _ours(url: str) -> bool:
    """Links to the CRM itself (unsubscribe, surveys): left as they are."""
    return url.startswith(settings.CRM_PUBLIC_URL.rstrip("/") + "/")


def _rewrite_text(text: str, message_id: int) -> str:
    def tracked(match: re.Match) -> str:
        url = match.group(0)
        tail = ""
        while url and url[-1] in _TRAILING:
            url, tail = url[:-1], url[-1] + tail
        if _ours(url):
            return match.group(0)
        return click_url(message_id, url) + tail
    return _TEXT_URL.sub(tracked, text)


def _rewrite_html(body: str, message_id: int) -> str:
    def tracked(match: re.Match) -> str:
        url = html.unescape(match.group(3))
        if _ours(url):
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}{html.escape(click_url(message_id, url))}" \
               f"{match.group(2)}"
    body = _HREF.sub(tracked, body)
    if settings.CRM_TRACK_OPENS:
        pixel = (f'<img src="{html.escape(open_url(message_id))}" width="1" height="1" '
                 f'alt="">')
        body = body.replace("</body>", pixel + "</body>") if "</body>" in body else body + pixel
    return body


def links_rewrite(rendered, message_id: int):
    """The rendered email (campaigns.rendering.Rendered) with its links going through the
    click redirect; unchanged when CRM_TRACK_CLICKS is off."""
    if not settings.CRM_TRACK_CLICKS:
        return rendered
    return replace(rendered, text=_rewrite_text(rendered.text, message_id),
                   html=_rewrite_html(rendered.html, message_id) if rendered.html else "")


def is_automated(*, method: str, user_agent: str, purpose: str) -> bool:
    """A request no person made: HEAD, a browser's prefetch, a scanner or bot."""
    if method != "GET" or "prefetch" in purpose.lower():
        return True
    agent = user_agent.lower()
    return not agent or any(sign in agent for sign in BOT_AGENTS)


def _insert_sql() -> str:
    clicks = connection.ops.quote_name(LinkClick._meta.db_table)
    messages = connection.ops.quote_name(Message._meta.db_table)
    return (f"INSERT INTO {clicks} (message_id, contact_id, kind, url, url_hash, clicked_at) "
            f"SELECT m.id, m.contact_id, %s, %s, %s, %s FROM {messages} m "
            f"WHERE m.id = %s AND m.status IN (%s, %s) AND m.sent_at IS NOT NULL "
            f"AND m.sent_at <= %s AND m.to_email <> '' "
            f"ON CONFLICT (message_id, url_hash) DO NOTHING")


def click_record(token: ClickToken, *, now=None) -> bool:
    """Record the click (or open) once; False when it was not recorded (recorded before, too
    soon after the hand-off, not a sent email, or the contact's data erased)."""
    now = now or timezone.now()
    kind = LinkClick.Kind.CLICK if token.url else LinkClick.Kind.OPEN
    too_soon = now - timezone.timedelta(seconds=settings.CRM_CLICK_IGNORE_SECONDS)
    prep = LinkClick._meta.get_field("clicked_at").get_db_prep_value
    params = [kind, token.url, hashlib.sha256(token.url.encode()).hexdigest(),
              prep(now, connection), token.message_id, Message.Status.SENT,
              # An email whose hand-off was cut short may have arrived: a click proves it.
              Message.Status.UNKNOWN, prep(too_soon, connection)]
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(), params)
        return cursor.rowcount == 1
