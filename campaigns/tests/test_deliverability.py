"""The managers' deliverability page (campaigns.deliverability): SPF, DKIM, DMARC, alignment,
bounce and complaint rates, read through a fake resolver (no network)."""
import datetime as dt
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from accounts.roles import MANAGERS
from campaigns import deliverability as d
from campaigns import dkim as campaigns_dkim
from campaigns import views
from campaigns.models import Message, Suppression
from campaigns.tests.factories import MessageFactory

pytestmark = pytest.mark.django_db
Status = Message.Status
KEY_FILE = Path(__file__).with_name("dkim_test_key.pem")
DOMAIN, SELECTOR = "shop.example", "crm2026"


class FakeResolver:
    def __init__(self, txt: dict[str, list[str]] | None = None,
                 addresses: dict[str, list[str]] | None = None, fail: set[str] = frozenset()):
        self.records, self.hosts, self.fail = txt or {}, addresses or {}, fail

    def txt(self, name: str) -> list[str]:
        if name in self.fail:
            raise d.LookupFailed(f"{name} TXT: Timeout")
        return self.records.get(name, [])

    def addresses(self, name: str) -> list[str]:
        return self.hosts.get(name, [])


@pytest.fixture
def dkim_on(settings):
    settings.CRM_DKIM_DOMAIN, settings.CRM_DKIM_SELECTOR = DOMAIN, SELECTOR
    settings.CRM_DKIM_PRIVATE_KEY_FILE, settings.CRM_DKIM_PRIVATE_KEY = str(KEY_FILE), ""
    settings.DEFAULT_FROM_EMAIL = f"Shop <news@{DOMAIN}>"
    settings.EMAIL_HOST = "smtp.mailprovider.example"
    return campaigns_dkim.signer()


def good_dns(signer) -> FakeResolver:
    return FakeResolver({
        DOMAIN: ["google-site-verification=abc", "v=spf1 include:_spf.mailprovider.example -all"],
        signer.record_name: [signer.dns_record()],
        f"_dmarc.{DOMAIN}": ["v=DMARC1; p=quarantine; rua=mailto:dmarc@shop.example"],
    })


def by_key(findings) -> dict:
    return {f.key: f for f in findings}


def test_a_well_set_up_domain_passes_every_check(dkim_on):
    found = by_key(d.report(good_dns(dkim_on)))

    assert {key: f.status for key, f in found.items()} == {
        "spf": d.OK, "dkim": d.OK, "dmarc": d.OK, "alignment": d.OK, "complaints": d.OK,
        "bounces": d.OK}
    assert found["spf"].found == "v=spf1 include:_spf.mailprovider.example -all"


@pytest.mark.parametrize(("records", "status", "advice"), [
    ([], d.FAIL, "Publish a TXT record"),
    (["v=spf1 include:a.example -all", "v=spf1 mx -all"], d.FAIL, "2 SPF records"),
    (["v=spf1 include:_spf.mailprovider.example +all"], d.FAIL, "lets anyone send as you"),
    (["v=spf1 include:_spf.mailprovider.example"], d.WARN, "-all or ~all"),
    (["v=spf1 includ:_spf.mailprovider.example -all"], d.FAIL, "includ:"),
    (["v=spf1 include:other.example ~all"], d.WARN, "smtp.mailprovider.example"),
])
def test_spf_problems_are_named(dkim_on, records, status, advice):
    resolver = good_dns(dkim_on)
    resolver.records[DOMAIN] = records

    spf = by_key(d.report(resolver))["spf"]

    assert spf.status == status
    assert advice in spf.advice


def test_spf_with_the_smtp_servers_address_authorises_it(dkim_on):
    resolver = good_dns(dkim_on)
    resolver.records[DOMAIN] = ["v=spf1 ip4:192.0.2.10 -all"]
    resolver.hosts["smtp.mailprovider.example"] = ["192.0.2.10"]

    assert by_key(d.report(resolver))["spf"].status == d.OK


def test_a_missing_or_different_dkim_record_says_what_to_publish(dkim_on):
    resolver = good_dns(dkim_on)
    resolver.records[dkim_on.record_name] = []
    missing = by_key(d.report(resolver))["dkim"]
    other = dkim_on.dns_record()
    resolver.records[dkim_on.record_name] = [other[:60] + ("B" if other[60] != "B" else "C")
                                             + other[61:]]
    different = by_key(d.report(resolver))["dkim"]

    assert missing.status == different.status == d.FAIL
    assert dkim_on.dns_record() in missing.advice
    assert "not the one this CRM signs with" in different.advice


def test_no_dkim_configured_is_a_finding(settings):
    settings.DEFAULT_FROM_EMAIL = f"Shop <news@{DOMAIN}>"

    found = by_key(d.report(FakeResolver()))

    assert found["dkim"].status == d.FAIL
    assert "does not sign" in found["dkim"].found
    assert found["alignment"].status == d.WARN  # the envelope sender still aligns


@pytest.mark.parametrize(("record", "status"), [
    ("v=DMARC1; p=reject", d.OK), ("v=DMARC1; p=none; rua=mailto:x@shop.example", d.WARN),
    ("v=DMARC1; rua=mailto:x@shop.example", d.FAIL), (None, d.FAIL)])
def test_dmarc_policy(dkim_on, record, status):
    resolver = good_dns(dkim_on)
    resolver.records[f"_dmarc.{DOMAIN}"] = [record] if record else []

    assert by_key(d.report(resolver))["dmarc"].status == status


def test_dmarc_of_the_organizational_domain_counts_for_a_subdomain():
    resolver = FakeResolver({"_dmarc.example.com.tr": ["v=DMARC1; p=quarantine"]})

    assert d.dmarc_check(resolver, "news.example.com.tr").status == d.OK


def test_a_dkim_domain_that_is_not_the_from_domain_is_misaligned():
    assert d.alignment_check("shop.example", "mailprovider.example",
                             "bounces.mailprovider.example").status == d.FAIL
    assert d.alignment_check("shop.example", "mail.shop.example", "shop.example").status == d.OK


def test_dns_that_does_not_answer_is_a_finding_not_an_error(dkim_on):
    resolver = good_dns(dkim_on)
    resolver.fail = {DOMAIN}

    spf = by_key(d.report(resolver))["spf"]

    assert spf.status == d.WARN and "Timeout" in spf.found


def test_rates_of_the_last_30_days_against_the_providers_limits(dkim_on):
    now = timezone.now()
    for _ in range(96):
        MessageFactory(status=Status.SENT, claimed_at=now, sent_at=now)
    for _ in range(3):
        MessageFactory(status=Status.BOUNCED, claimed_at=now)
    MessageFactory(status=Status.BOUNCED, claimed_at=now - dt.timedelta(days=31))  # too old
    Suppression.objects.create(email="spam@example.com", reason=Suppression.Reason.COMPLAINED)

    rates = d.rates(now=now)
    found = by_key(d.rate_findings(rates))

    assert (rates.attempted, rates.bounced, rates.complaints) == (99, 3, 1)
    assert found["bounces"].status == d.FAIL  # 3.03% >= 2%
    assert found["complaints"].status == d.FAIL  # 1 / 96 >= 0.3%
    assert "3.03%" in found["bounces"].found


def test_the_page_is_for_managers_only(client, django_user_model, dkim_on, monkeypatch):
    monkeypatch.setattr(views, "deliverability_resolver", lambda: good_dns(dkim_on))
    staff = django_user_model.objects.create_user("sales", password="x")
    client.force_login(staff)
    assert client.get(reverse("campaigns:deliverability")).status_code == 403

    manager = django_user_model.objects.create_user("boss", password="x")
    manager.groups.add(Group.objects.get(name=MANAGERS))
    client.force_login(manager)
    response = client.get(reverse("campaigns:deliverability"))

    assert response.status_code == 200
    assert b'data-check="dkim" data-status="ok"' in response.content


def test_the_page_in_turkish(client, django_user_model, dkim_on, monkeypatch):
    monkeypatch.setattr(views, "deliverability_resolver", lambda: FakeResolver())
    manager = django_user_model.objects.create_user("patron", password="x")
    manager.groups.add(Group.objects.get(name=MANAGERS))
    client.force_login(manager)

    response = client.get(reverse("campaigns:deliverability"), HTTP_ACCEPT_LANGUAGE="tr")

    assert response.status_code == 200
    assert b'data-check="spf" data-status="fail"' in response.content
