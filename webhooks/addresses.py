"""Which hosts a webhook may be sent to: standard library only.

A manager types the endpoint URL, and the CRM then POSTs signed payloads to it from inside the
network it runs in. Without a check, "http://127.0.0.1:6379/", "http://10.0.0.5/admin" or
"http://169.254.169.254/latest/meta-data/" would make the CRM a tool for reaching services that
are not meant to be reachable from outside (server-side request forgery), and the recorded
status code or error would tell the caller what is there.

So a host is refused when any address it resolves to is not a public unicast address:
loopback, private (RFC 1918, fc00::/7), shared (100.64/10), link-local (169.254/16, where the
cloud metadata services live, and fe80::/10), unspecified, multicast, reserved or documentation
ranges, and IPv6 forms that embed one of those (IPv4-mapped ::ffff:a.b.c.d, 6to4, NAT64).
Every address counts, not just the first: a name that resolves to one public and one private
address could be connected to either. Well-known metadata names are refused by name too.
"""
import ipaddress
import socket

# Cloud metadata services by name (they resolve to link-local addresses on those clouds, but
# refusing the name does not depend on what the local resolver says).
METADATA_HOSTS = frozenset({
    "metadata", "metadata.google.internal", "metadata.goog", "instance-data",
    "instance-data.ec2.internal", "metadata.azure.internal", "metadata.tencentyun.com",
})

_NAT64 = ipaddress.ip_network("64:ff9b::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class BlockedAddress(OSError):
    """The host is, or resolves to, an address webhooks may not be sent to.

    An OSError, so the transport records it like any other connection failure."""


def _embedded_ipv4(ip: IPAddress) -> ipaddress.IPv4Address | None:
    if not isinstance(ip, ipaddress.IPv6Address):
        return None
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return None


def address_problem(ip: IPAddress) -> str:
    """Why this address is refused ("" = it is a public unicast address)."""
    embedded = _embedded_ipv4(ip)
    if embedded is not None:
        return address_problem(embedded)
    for flag, reason in (("is_unspecified", "unspecified"), ("is_loopback", "loopback"),
                         ("is_link_local", "link-local"), ("is_multicast", "multicast"),
                         ("is_reserved", "reserved"), ("is_private", "private")):
        if getattr(ip, flag):
            return reason
    if not ip.is_global:  # 100.64.0.0/10 (carrier-grade NAT) and other special ranges
        return "not public"
    return ""


def _host_key(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def resolve_public(host: str, port: int | None) -> list[tuple[int, int, int, str, tuple]]:
    """Every address of `host` as getaddrinfo gives them, once all are known to be public.

    Raises BlockedAddress naming the first refused address, or for a metadata host name;
    socket.gaierror when the name does not resolve.
    """
    if _host_key(host) in METADATA_HOSTS:
        raise BlockedAddress(f"{host} is a cloud metadata service")
    infos = socket.getaddrinfo(_host_key(host), port, type=socket.SOCK_STREAM)
    for *_rest, sockaddr in infos:
        ip = ipaddress.ip_address(sockaddr[0].split("%", 1)[0])  # drop an IPv6 zone id
        problem = address_problem(ip)
        if problem:
            raise BlockedAddress(f"{host} resolves to {problem} address {ip}")
    return infos


def create_public_connection(address: tuple[str, int], timeout=socket._GLOBAL_DEFAULT_TIMEOUT,
                             source_address=None) -> socket.socket:
    """socket.create_connection, but only to addresses resolve_public accepted.

    The check and the connection use the same lookup: resolving once to check and letting the
    connection resolve again would leave a window where a DNS answer with a short TTL changes
    from a public address to 127.0.0.1 in between (DNS rebinding).
    """
    host, port = address
    error: OSError | None = None
    for family, socktype, proto, _canonname, sockaddr in resolve_public(host, port):
        sock = socket.socket(family, socktype, proto)
        try:
            if timeout is not socket._GLOBAL_DEFAULT_TIMEOUT:
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except OSError as failure:
            error = failure
            sock.close()
    raise error or OSError(f"{host} has no address")
