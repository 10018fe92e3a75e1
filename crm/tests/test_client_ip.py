"""The client address every per-client limit uses: X-Forwarded-For as the trusted proxies wrote
it, never what the client put in front of it."""
import logging

import pytest
from django.core.checks import run_checks
from django.test import RequestFactory

from crm.client_ip import UNKNOWN, client_ip, client_key


def _request(remote_addr: str = "", forwarded_for: str | None = None):
    meta = {"REMOTE_ADDR": remote_addr}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **meta)


@pytest.fixture
def proxies(settings):
    def set_count(count: int) -> None:
        settings.CRM_TRUSTED_PROXY_COUNT = count
    return set_count


def test_without_proxies_the_peer_is_the_client_and_the_header_is_ignored(proxies):
    proxies(0)

    assert client_ip(_request("198.51.100.7", "203.0.113.1")) == "198.51.100.7"


def test_one_proxy_behind_a_unix_socket_gives_the_address_nginx_saw(proxies):
    proxies(1)

    assert client_ip(_request("", "203.0.113.9")) == "203.0.113.9"


def test_entries_the_client_sent_in_front_are_ignored(proxies):
    # nginx with $proxy_add_x_forwarded_for: the client's own header, then its real address.
    proxies(1)

    assert client_ip(_request("", "10.0.0.1, 1.2.3.4,203.0.113.9")) == "203.0.113.9"


def test_two_proxies_take_the_second_entry_from_the_right(proxies):
    # client-forged, client as the load balancer saw it, balancer as nginx saw it
    proxies(2)

    assert client_ip(_request("", "6.6.6.6, 203.0.113.9, 10.0.0.2")) == "203.0.113.9"


def test_fewer_entries_than_proxies_take_the_leftmost(proxies):
    # The request skipped the balancer: the only entry is still nginx's.
    proxies(2)

    assert client_ip(_request("", "203.0.113.9")) == "203.0.113.9"


@pytest.mark.parametrize("garbage", ["", " , ", "not-an-ip", "999.1.1.1", "203.0.113.9:443",
                                     "unknown", "<script>", "1.2.3.4\x00"])
def test_garbage_in_the_trusted_entry_falls_back_to_the_peer(proxies, garbage):
    proxies(1)

    assert client_ip(_request("192.0.2.5", f"203.0.113.9, {garbage}")) == "192.0.2.5"


def test_ipv6_is_canonical_so_spellings_share_one_limit(proxies):
    proxies(1)

    assert client_ip(_request("", "2001:DB8:0:0::1")) == "2001:db8::1"
    assert client_ip(_request("", "::ffff:203.0.113.9")) == "203.0.113.9"
    assert client_ip(_request("2001:db8::2")) == "2001:db8::2"


def test_no_address_at_all_is_none_and_logged(proxies, caplog):
    # A unix socket with no proxy count configured: every client looks the same.
    proxies(0)

    with caplog.at_level(logging.ERROR, logger="crm.client_ip"):
        address = client_ip(_request("", "203.0.113.9"))

    assert address is None
    assert "CRM_TRUSTED_PROXY_COUNT" in caplog.text


def test_cache_keys_never_use_an_empty_address(proxies):
    proxies(0)

    assert client_key(_request("")) == UNKNOWN
    assert client_key(_request("192.0.2.5")) == "192.0.2.5"


def test_deploy_check_warns_when_a_proxy_is_trusted_for_the_scheme_only(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.CRM_TRUSTED_PROXY_COUNT = 0

    ids = [message.id for message in run_checks(include_deployment_checks=True)]

    assert "crm.W001" in ids


def test_deploy_check_is_quiet_with_a_proxy_count(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.CRM_TRUSTED_PROXY_COUNT = 1

    ids = [message.id for message in run_checks(include_deployment_checks=True)]

    assert "crm.W001" not in ids
