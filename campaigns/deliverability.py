"""Will our email land? The sending domain's SPF, DKIM and DMARC records, the alignment of
From with the DKIM domain and the envelope sender, and the last 30 days' bounce and complaint
rates against the mailbox providers' limits, each with what to fix in plain words.

DNS is read through a small Resolver interface (`txt(name)`, `addresses(name)`): dnspython in
production (DnsResolver), a dictionary in tests. The managers' page is
campaigns.views.deliverability.
"""
import base64
import datetime as dt
import logging
import re
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Protocol

from django.conf import settings
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from crm.shop import shop

from . import dkim as campaigns_dkim
from .models import Message
from .suppression import complaints_between

logger = logging.getLogger(__name__)

RATE_DAYS = 30
# Gmail's and Yahoo's bulk-sender rules: keep complaints under 0.1%, never reach 0.3%.
COMPLAINT_GOOD, COMPLAINT_LIMIT = 0.001, 0.003
BOUNCE_LIMIT = 0.02  # the usual ceiling of email services (SES, SendGrid, Postmark) for bounces

OK, WARN, FAIL = "ok", "warn", "fail"


class LookupFailed(Exception):
    """DNS did not answer (timeout, server failure): neither found nor missing."""


class Resolver(Protocol):
    def txt(self, name: str) -> list[str]:
        """The TXT records at `name` ([] when there is none); LookupFailed if DNS fails."""

    def addresses(self, name: str) -> list[str]:
        """The A and AAAA addresses of `name` ([] when there is none)."""


class DnsResolver:
    """dnspython, with a short timeout: the page must answer even when DNS does not."""

    def __init__(self, timeout: float = 3.0) -> None:
        import dns.resolver

        self.resolver = dns.resolver.Resolver()
        self.timeout = timeout

    def _resolve(self, name: str, kind: str):
        import dns.exception
        import dns.resolver

        try:
            return list(self.resolver.resolve(name, kind, lifetime=self.timeout))
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers):
            return []
        except dns.exception.DNSException as error:
            raise LookupFailed(f"{name} {kind}: {type(error).__name__}") from error

    def txt(self, name: str) -> list[str]:
        return [b"".join(record.strings).decode(errors="replace")
                for record in self._resolve(name, "TXT")]

    def addresses(self, name: str) -> list[str]:
        return [record.to_text() for kind in ("A", "AAAA") for record in self._resolve(name, kind)]


@dataclass(frozen=True)
class Finding:
    key: str     # spf, dkim, dmarc, alignment, bounces, complaints
    title: str
    status: str  # OK, WARN or FAIL
    found: str   # what was found, as is
    advice: str  # what to do, "" when nothing


def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].strip().lower().rstrip(".")


# Second-level labels under which registrations sit (example.com.tr, example.co.uk).
_SECOND_LEVEL = {"co", "com", "org", "net", "gov", "edu", "ac", "gen", "biz", "info", "k12"}


def organizational_domain(domain: str) -> str:
    """example.com for mail.example.com; example.com.tr for news.example.com.tr. (An
    approximation of the public suffix list, enough for DMARC's relaxed alignment here.)"""
    labels = domain.lower().rstrip(".").split(".")
    if len(labels) >= 3 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        return ".".join(labels[-3:])
    return ".".join(labels[-2:])


def _tags(record: str) -> dict[str, str]:
    tags = {}
    for part in record.split(";"):
        name, sep, value = part.partition("=")
        if sep:
            tags[name.strip().lower()] = "".join(value.split())
    return tags


# --- SPF ---------------------------------------------------------------------------------------

_SPF_TERM = re.compile(
    r"^[+\-~?]?(all|include:\S+|a(:\S+)?(/\d+)?|mx(:\S+)?(/\d+)?|ptr(:\S+)?|ip4:[\d./]+|"
    r"ip6:[0-9a-fA-F:./]+|exists:\S+)$|^(redirect|exp)=\S+$", re.IGNORECASE)


def spf_check(resolver: Resolver, domain: str, smtp_host: str) -> Finding:
    title = _("SPF (which servers may send for %(domain)s)") % {"domain": domain}
    records = [r for r in resolver.txt(domain) if r.lower().startswith("v=spf1")]
    if not records:
        return Finding("spf", title, FAIL, _("No SPF record."), _(
            "Publish a TXT record on %(domain)s such as \"v=spf1 include:<your email "
            "provider's SPF domain> -all\" (your provider's documentation names it).")
            % {"domain": domain})
    if len(records) > 1:
        return Finding("spf", title, FAIL, " | ".join(records), _(
            "There are %(count)d SPF records: receivers treat that as an error. Merge them "
            "into one.") % {"count": len(records)})
    record = records[0]
    terms = record.split()[1:]
    bad = [term for term in terms if not _SPF_TERM.match(term)]
    if bad:
        return Finding("spf", title, FAIL, record, _(
            "The record has terms receivers do not understand: %(terms)s. Correct its "
            "syntax.") % {"terms": ", ".join(bad)})
    ending = next((t.lower() for t in terms if t.lower().lstrip("+-~?") == "all"), "")
    advice = []
    status = OK
    if ending in ("+all", "all", "?all"):
        status = FAIL
        advice.append(_("\"%(ending)s\" lets anyone send as you: end the record with -all "
                        "(or ~all while testing).") % {"ending": ending})
    elif not ending and not any(t.lower().startswith("redirect=") for t in terms):
        status = WARN
        advice.append(_("The record does not end with -all or ~all: add -all so other "
                        "servers are refused."))
    if smtp_host and not _spf_names_host(resolver, terms, smtp_host):
        status = FAIL if status == FAIL else WARN
        advice.append(_("Nothing in the record plainly covers the SMTP server this CRM uses "
                        "(%(host)s): add its provider's include: or its IP addresses "
                        "(ip4:/ip6:), unless an include above already covers it.")
                      % {"host": smtp_host})
    return Finding("spf", title, status, record, " ".join(advice))


def _spf_names_host(resolver: Resolver, terms: list[str], host: str) -> bool:
    """Does the record plausibly authorise `host`: an include: of its provider's domain, one of
    its addresses in ip4:/ip6:, or a/mx (the domain's own servers)?"""
    host = host.lower().rstrip(".")
    provider = organizational_domain(host)
    mechanisms = [t.lstrip("+~?").lower() for t in terms if not t.startswith("-")]
    for term in mechanisms:
        if term.startswith("include:") and organizational_domain(term[8:]) == provider:
            return True
        if term in ("a", "mx") or term.startswith(("a:", "mx:")):
            return True
    try:
        addresses = set(resolver.addresses(host))
    except LookupFailed:
        return False
    networks = [t.split(":", 1)[1].split("/")[0] for t in mechanisms
                if t.startswith(("ip4:", "ip6:"))]
    return bool(addresses & set(networks))


# --- DKIM --------------------------------------------------------------------------------------

def dkim_check(resolver: Resolver) -> Finding:
    title = _("DKIM (the signature on every email)")
    try:
        signer = campaigns_dkim.signer()
    except campaigns_dkim.DkimBroken as error:
        return Finding("dkim", title, FAIL, str(error), _(
            "Sending is stopped until the key is fixed: nothing goes out unsigned. Check "
            "CRM_DKIM_PRIVATE_KEY or CRM_DKIM_PRIVATE_KEY_FILE, then restart the workers."))
    if signer is None:
        return Finding("dkim", title, FAIL, _("This CRM does not sign its email."), _(
            "Set CRM_DKIM_DOMAIN, CRM_DKIM_SELECTOR and CRM_DKIM_PRIVATE_KEY_FILE (see "
            "docs/email-delivery.md), or send through an email service that signs for you."))
    expected = signer.dns_record()
    records = [r for r in resolver.txt(signer.record_name) if "p=" in r]
    if not records:
        return Finding("dkim", title, FAIL, _("No TXT record at %(name)s.") % {
            "name": signer.record_name}, _("Publish this TXT record at %(name)s: %(record)s")
            % {"name": signer.record_name, "record": expected})
    published = _tags(records[0]).get("p", "")
    if _public_key(published) != signer.public_key():
        return Finding("dkim", title, FAIL, records[0], _(
            "The published key is not the one this CRM signs with: receivers will reject "
            "the signature. Replace the record at %(name)s with: %(record)s")
            % {"name": signer.record_name, "record": expected})
    return Finding("dkim", title, OK, records[0], "")


def _public_key(p: str) -> tuple[int, int] | None:
    from dkim.crypto import UnparsableKeyError, parse_public_key

    try:
        key = parse_public_key(base64.b64decode(p))
    except (UnparsableKeyError, ValueError, IndexError, TypeError):
        return None
    return key["modulus"], key["publicExponent"]


# --- DMARC and alignment -----------------------------------------------------------------------

def dmarc_check(resolver: Resolver, domain: str) -> Finding:
    title = _("DMARC (what receivers do with email that fails)")
    found_at = f"_dmarc.{domain}"
    records = [r for r in resolver.txt(found_at) if r.lower().startswith("v=dmarc1")]
    if not records and organizational_domain(domain) != domain:
        found_at = f"_dmarc.{organizational_domain(domain)}"
        records = [r for r in resolver.txt(found_at) if r.lower().startswith("v=dmarc1")]
    if not records:
        return Finding("dmarc", title, FAIL, _("No DMARC record."), _(
            "Publish a TXT record at _dmarc.%(domain)s, to start: \"v=DMARC1; p=none; "
            "rua=mailto:dmarc@%(domain)s\"; move to p=quarantine once reports show all your "
            "email passes.") % {"domain": organizational_domain(domain)})
    policy = _tags(records[0]).get("p", "").lower()
    if policy in ("quarantine", "reject"):
        return Finding("dmarc", title, OK, f"{found_at}: {records[0]}", "")
    if policy == "none":
        return Finding("dmarc", title, WARN, f"{found_at}: {records[0]}", _(
            "p=none only monitors: enough for Gmail's and Yahoo's rules, but others can "
            "still send as you. Move to p=quarantine once the reports show all your email "
            "passes."))
    return Finding("dmarc", title, FAIL, f"{found_at}: {records[0]}", _(
        "The record has no valid policy (p=none, quarantine or reject): receivers ignore it."))


def alignment_check(from_domain: str, dkim_domain: str, envelope_domain: str) -> Finding:
    title = _("Alignment (From matches the signing and sending domains)")
    found = _("From: %(from)s; DKIM d=: %(dkim)s; envelope sender (Return-Path): "
              "%(envelope)s") % {"from": from_domain, "dkim": dkim_domain or "-",
                                 "envelope": envelope_domain}
    org = organizational_domain(from_domain)
    dkim_aligned = bool(dkim_domain) and organizational_domain(dkim_domain) == org
    spf_aligned = organizational_domain(envelope_domain) == org
    if dkim_aligned and spf_aligned:
        return Finding("alignment", title, OK, found, "")
    if dkim_aligned or spf_aligned:
        return Finding("alignment", title, WARN, found, _(
            "DMARC passes with one aligned domain, but both is safer: set CRM_DKIM_DOMAIN "
            "to the From address's domain (%(domain)s) and send from an address on it.")
            % {"domain": from_domain})
    return Finding("alignment", title, FAIL, found, _(
        "Neither the DKIM domain nor the envelope sender matches the From address: DMARC "
        "fails and Gmail and Yahoo junk or refuse the email. Set CRM_DKIM_DOMAIN to "
        "%(domain)s.") % {"domain": from_domain})


# --- Rates -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Rates:
    attempted: int
    bounced: int
    complaints: int

    @property
    def bounce_rate(self) -> float:
        return self.bounced / self.attempted if self.attempted else 0.0

    @property
    def complaint_rate(self) -> float:
        delivered = self.attempted - self.bounced
        return self.complaints / delivered if delivered > 0 else 0.0


def rates(*, now: dt.datetime | None = None, days: int = RATE_DAYS) -> Rates:
    """Emails offered to the server in the last `days` days (sent, bounced, unknown), how many
    bounced (at once or by a later report), and the spam complaints recorded in that time."""
    start = (now or timezone.now()) - dt.timedelta(days=days)
    offered = Message.objects.filter(
        claimed_at__gte=start,
        status__in=[Message.Status.SENT, Message.Status.UNKNOWN, Message.Status.BOUNCED])
    counts = {row["status"]: row["n"] for row in offered.order_by().values("status")
              .annotate(n=Count("id"))}
    complaints = complaints_between(start)
    return Rates(attempted=sum(counts.values()),
                 bounced=counts.get(Message.Status.BOUNCED, 0), complaints=complaints)


def _percent(rate: float) -> str:
    return f"{100 * rate:.2f}%"


def rate_findings(measured: Rates) -> list[Finding]:
    numbers = {"days": RATE_DAYS, "sent": measured.attempted}
    complaints = _("%(count)d complaints, %(rate)s of the emails delivered in the last %(days)d "
                   "days (%(sent)d sent)") % {
        **numbers, "count": measured.complaints, "rate": _percent(measured.complaint_rate)}
    bounces = _("%(count)d bounces, %(rate)s of %(sent)d emails sent in the last %(days)d "
                "days") % {**numbers, "count": measured.bounced,
                           "rate": _percent(measured.bounce_rate)}
    complaint_title = _("Spam complaints (keep under 0.1%, never 0.3%)")
    if measured.complaint_rate >= COMPLAINT_LIMIT:
        complaint = Finding("complaints", complaint_title, FAIL, complaints, _(
            "At this rate Gmail and Yahoo refuse or junk your email. Send only to people who "
            "asked for it and bought recently, send less often, and make unsubscribing easy."))
    elif measured.complaint_rate >= COMPLAINT_GOOD:
        complaint = Finding("complaints", complaint_title, WARN, complaints, _(
            "Above the recommended 0.1%: narrow the audience (recent buyers) and send less "
            "often before it reaches 0.3%."))
    else:
        complaint = Finding("complaints", complaint_title, OK, complaints, "")
    bounce_title = _("Bounces (keep under 2%)")
    if measured.bounce_rate >= BOUNCE_LIMIT:
        bounce = Finding("bounces", bounce_title, FAIL, bounces, _(
            "Too many addresses do not exist: providers read it as a bought or old list. "
            "Check how addresses are collected (typos at checkout) and stop mailing contacts "
            "who have not bought in years."))
    else:
        bounce = Finding("bounces", bounce_title, OK, bounces, "")
    return [complaint, bounce]


# --- The report --------------------------------------------------------------------------------

def report(resolver: Resolver | None = None, *, now: dt.datetime | None = None) -> list[Finding]:
    """Every finding, DNS first; a DNS failure is a finding too, never an error page."""
    resolver = resolver or DnsResolver()
    from_domain = domain_of(shop().from_email)
    try:
        dkim_domain = (campaigns_dkim.signer() or campaigns_dkim.Signer("", "", b"")).domain
    except campaigns_dkim.DkimBroken:
        dkim_domain = settings.CRM_DKIM_DOMAIN.strip().lower()
    findings = []
    checks = [("spf", lambda: spf_check(resolver, from_domain, settings.EMAIL_HOST)),
              ("dkim", lambda: dkim_check(resolver)),
              ("dmarc", lambda: dmarc_check(resolver, from_domain))]
    for key, check in checks:
        try:
            findings.append(check())
        except LookupFailed as error:
            findings.append(Finding(key, key.upper(), WARN, str(error), _(
                "DNS did not answer: try again in a minute.")))
    # The sender uses the From address as the envelope sender (campaigns.smtp).
    findings.append(alignment_check(from_domain, dkim_domain, from_domain))
    findings.extend(rate_findings(rates(now=now)))
    return findings
