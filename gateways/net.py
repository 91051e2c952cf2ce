"""The address guard every outbound connection goes through: HTTP (gateways.http), SMTP and IMAP
(gateways.mail.connections), and any socket a future adapter opens (call `guarded_connection`
instead of `socket.create_connection`).

Server-side request forgery: an account's host is whatever an Admin (or whoever stole an Admin's
session) typed. So every connection resolves the host once, refuses it when ANY resolved address is
loopback, private, link-local, carrier-grade NAT, multicast, unspecified or reserved (IPv4-mapped and
other IPv4-embedding IPv6 forms included), and connects to the address it checked, so a second DNS
answer cannot swap in an internal address. TLS, wrapped around the returned socket by the caller,
still verifies the host name. GATEWAYS_ALLOW_PRIVATE_ADDRESSES (development, tests) and
GATEWAYS_ALLOWED_ENDPOINTS (exact host:port pairs) apply the same way to every protocol.
"""

from __future__ import annotations

import ipaddress
import socket

from django.conf import settings

from aicmo_site.env import env_bool, env_list

# AWS, GCP, Azure (169.254.169.254), AWS IPv6, Alibaba (in carrier-grade NAT space) and Oracle
# (in the IETF protocol block that older Pythons call global) metadata services.
METADATA_ADDRESSES = frozenset({"169.254.169.254", "fd00:ec2::254", "100.100.100.200", "192.0.0.192"})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
# Special-purpose blocks that some Python versions' ipaddress tables do not mark private.
_SPECIAL_PURPOSE = (ipaddress.ip_network("192.0.0.0/24"), ipaddress.ip_network("0.0.0.0/8"),
                    ipaddress.ip_network("198.18.0.0/15"))


class AddressRefused(Exception):  # noqa: N818 - reads as what happened, like the other gateway errors
    """A host resolved to an address outbound calls may not reach. Not an OSError on purpose: urllib3
    would wrap and retry it, and the mail adapters would report it as an unreachable server."""

    def __init__(self, host: str, address: str, reason: str):
        super().__init__(f"{host} resolves to {address} ({reason})")
        self.host, self.address, self.reason = host, address, reason


def allow_private_addresses() -> bool:
    default = env_bool("GATEWAYS_ALLOW_PRIVATE_ADDRESSES", False)
    return bool(getattr(settings, "GATEWAYS_ALLOW_PRIVATE_ADDRESSES", default))


def allowed_endpoints() -> set[str]:
    """Exact `host:port` pairs let through whatever they resolve to (an internal receiver the operator
    trusts; a test server while every other address stays guarded)."""
    configured = getattr(settings, "GATEWAYS_ALLOWED_ENDPOINTS", env_list("GATEWAYS_ALLOWED_ENDPOINTS", []))
    return {entry.strip().lower() for entry in configured}


def address_refusal(address: str) -> str | None:
    """Why an outbound connection to this IP address is refused, or None when it is public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None:
            return address_refusal(str(embedded))
    checks = (
        (str(ip) in METADATA_ADDRESSES, "cloud metadata"),
        (ip.is_unspecified, "unspecified"),
        (ip.is_loopback, "loopback"),
        (ip.is_link_local, "link-local"),
        (ip.is_multicast, "multicast"),
        (ip.version == 4 and ip in _CGNAT, "carrier-grade NAT"),
        (ip.is_private or (ip.version == 4 and any(ip in net for net in _SPECIAL_PURPOSE)), "private"),
        (ip.is_reserved, "reserved"),
        (not ip.is_global, "not public"),
    )
    return next((reason for refused, reason in checks if refused), None)


def _bare_host(host: str) -> str:
    """An IPv6 literal as people write it in a host field ("[::1]") is a name to no resolver."""
    return host[1:-1] if host.startswith("[") and host.endswith("]") else host


def checked_addresses(host: str, port: int) -> list[tuple]:
    """getaddrinfo answers for host, after refusing the lot if any one of them is not public."""
    host = _bare_host(host)
    infos = socket.getaddrinfo(host, port, 0, socket.SOCK_STREAM)
    if allow_private_addresses() or f"{host.lower()}:{port}" in allowed_endpoints():
        return infos
    for *_, sockaddr in infos:
        reason = address_refusal(sockaddr[0])
        if reason:
            raise AddressRefused(host, sockaddr[0], reason)
    return infos


def guarded_connection(host: str, port: int, *, timeout: float | None = None,
                       source_address: tuple[str, int] | None = None,
                       socket_options: tuple = ()) -> socket.socket:
    """A connected TCP socket to a checked address of host:port (socket.create_connection, guarded).

    Raises AddressRefused before any socket is opened, socket.gaierror when the name does not resolve,
    TimeoutError at the first address that does not answer in time, and otherwise the last OSError.
    """
    last_error: OSError | None = None
    for family, socktype, proto, _, sockaddr in checked_addresses(host, port):
        sock = socket.socket(family, socktype, proto)
        try:
            for option in socket_options:
                sock.setsockopt(*option)
            if isinstance(timeout, int | float):
                sock.settimeout(timeout)
            if source_address:
                sock.bind(source_address)
            sock.connect(sockaddr)
            return sock
        except TimeoutError:
            sock.close()
            raise
        except OSError as exc:
            sock.close()
            last_error = exc
    raise last_error or OSError(f"{host} has no address")
