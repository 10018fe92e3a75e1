"""Endpoints may not point into the CRM's own network (SSRF): refused when saved and again when
sent, from what the host resolves to (a fake resolver here), unless a setting allows it."""
import ipaddress
import socket

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from webhooks.addresses import address_problem
from webhooks.models import EventType, WebhookDelivery, WebhookEndpoint
from webhooks.services import endpoint_create, event_emit

from .factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db
PUBLIC = "93.184.216.34"


@pytest.fixture(autouse=True)
def private_refused(settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = False


class FakeDNS(dict):
    """Names in the dict resolve to its addresses; any other name does not resolve."""

    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[str] = []


@pytest.fixture
def dns(monkeypatch) -> FakeDNS:
    records = FakeDNS()
    lookups = records.lookups
    real = socket.getaddrinfo

    def fake_getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        lookups.append(host)
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return real(host, port, family, type, proto, flags)  # a literal address
        if host not in records:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM, 6, "",
                 (ip, port or 443, 0, 0) if ":" in ip else (ip, port or 443))
                for ip in records[host]]

    monkeypatch.setattr(socket, "getaddrinfo", fake_getaddrinfo)
    return records


@pytest.mark.parametrize(("address", "problem"), [
    ("127.0.0.1", "loopback"), ("127.8.9.10", "loopback"), ("::1", "loopback"),
    ("10.1.2.3", "private"), ("172.16.0.1", "private"), ("192.168.1.1", "private"),
    ("fc00::1", "private"), ("fd12:3456::1", "private"),
    ("169.254.169.254", "link-local"), ("fe80::1", "link-local"),
    ("0.0.0.0", "unspecified"), ("::", "unspecified"),  # the address under test
    ("224.0.0.1", "multicast"), ("ff02::1", "multicast"), ("240.0.0.1", "reserved"),
    ("100.64.0.1", "not public"), ("192.0.2.1", "private"),
    ("::ffff:127.0.0.1", "loopback"), ("::ffff:10.0.0.1", "private"),
    ("::ffff:169.254.169.254", "link-local"), ("2002:7f00:1::", "loopback"),
    ("64:ff9b::a9fe:a9fe", "link-local"),
    (PUBLIC, ""), ("2606:4700::1111", ""), ("::ffff:93.184.216.34", ""),
])
def test_each_kind_of_internal_address_is_named_and_public_ones_pass(address, problem):
    assert address_problem(ipaddress.ip_address(address)) == problem


def _create(url: str) -> WebhookEndpoint:
    return endpoint_create(name="Shop", url=url, events=[EventType.AT_RISK])


@pytest.mark.parametrize("addresses", [
    ["10.0.0.5"], ["169.254.169.254"], ["::1"], ["::ffff:127.0.0.1"],
    [PUBLIC, "192.168.0.10"],  # one private address among public ones is enough
])
def test_a_host_resolving_to_an_internal_address_is_refused_on_save(dns, addresses):
    dns["hooks.shop.example"] = addresses

    with pytest.raises(ValidationError) as error:
        _create("https://hooks.shop.example/crm")

    assert error.value.error_dict["url"][0].code == "private_address"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", [
    "https://127.0.0.1/hook", "https://[::1]:8443/hook", "https://169.254.169.254/latest",
    "https://metadata.google.internal/computeMetadata/v1/",
    "https://METADATA.google.internal./x",
])
def test_literal_internal_addresses_and_metadata_names_are_refused(dns, url):
    with pytest.raises(ValidationError) as error:
        _create(url)

    assert error.value.error_dict["url"][0].code == "private_address"


def test_a_public_host_is_accepted(dns):
    dns["hooks.shop.example"] = [PUBLIC, "2606:4700::1111"]

    endpoint = _create("https://hooks.shop.example/crm")

    assert endpoint.url == "https://hooks.shop.example/crm"


def test_a_host_that_does_not_resolve_is_refused(dns):
    with pytest.raises(ValidationError) as error:
        _create("https://no-such-host.shop.example/crm")

    assert error.value.error_dict["url"][0].code == "unknown_host"


def test_the_setting_allows_internal_receivers(dns, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    dns["erp.internal.example"] = ["10.0.0.5"]

    endpoint = _create("https://erp.internal.example/hook")

    assert endpoint.pk is not None and dns.lookups == []  # allowed: nothing to look up


def test_the_admin_shows_the_refusal_on_the_url_field(client, manager, dns):
    client.force_login(manager)
    dns["hooks.shop.example"] = ["192.168.1.20"]

    response = client.post(reverse("admin:webhooks_webhookendpoint_add"), {
        "name": "Shop", "url": "https://hooks.shop.example/crm",
        "events": [EventType.AT_RISK], "is_active": "on"})

    assert response.status_code == 200 and not WebhookEndpoint.objects.exists()
    assert "webhooks are sent only to public addresses" in str(
        response.context["adminform"].form.errors["url"])


# --- At delivery time: the name may resolve elsewhere by now ----------------------------------

def _deliver(capture) -> WebhookDelivery:
    with capture(execute=True):
        event_emit(EventType.AT_RISK, [(7, {"contact_id": 7})])
    return WebhookDelivery.objects.get()


def test_a_name_that_now_resolves_to_loopback_is_not_sent_to(
        dns, receiver, django_capture_on_commit_callbacks):
    port = receiver.url.split(":")[2].split("/")[0]
    # Saved while it resolved to a public address; since then its DNS answer is 127.0.0.1,
    # where something is listening (the receiver stands in for an internal service).
    WebhookEndpointFactory(url=f"http://hooks.shop.example:{port}/hook")
    dns["hooks.shop.example"] = ["127.0.0.1"]

    delivery = _deliver(django_capture_on_commit_callbacks)

    assert receiver.requests == []
    assert (delivery.status, delivery.last_status_code) == (WebhookDelivery.Status.PENDING, None)
    assert "loopback address 127.0.0.1" in delivery.last_error


def test_the_same_delivery_goes_through_where_private_receivers_are_allowed(
        dns, receiver, django_capture_on_commit_callbacks, settings):
    settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
    port = receiver.url.split(":")[2].split("/")[0]
    WebhookEndpointFactory(url=f"http://hooks.shop.example:{port}/hook")
    dns["hooks.shop.example"] = ["127.0.0.1"]

    delivery = _deliver(django_capture_on_commit_callbacks)

    assert len(receiver.requests) == 1
    assert delivery.status == WebhookDelivery.Status.DELIVERED


def test_the_connection_goes_to_the_address_that_was_checked(
        dns, receiver, django_capture_on_commit_callbacks, monkeypatch):
    """One lookup per attempt, and the socket connects to an address from that very lookup:
    a second lookup for the connection could get a different (rebound) answer."""
    port = int(receiver.url.split(":")[2].split("/")[0])
    WebhookEndpointFactory(url=f"http://hooks.shop.example:{port}/hook")
    dns["hooks.shop.example"] = [PUBLIC]
    connected: list = []

    def fake_connect(self, address):
        connected.append(address)
        raise ConnectionRefusedError("test: no network")

    monkeypatch.setattr(socket.socket, "connect", fake_connect)

    delivery = _deliver(django_capture_on_commit_callbacks)

    assert dns.lookups == ["hooks.shop.example"]
    assert connected == [(PUBLIC, port)]
    assert receiver.requests == [] and "ConnectionRefusedError" in delivery.last_error
