"""The address guard on the mail adapters: with private addresses not allowed (production), an SMTP or
IMAP account whose host is internal, however spelled or resolved, is refused before any socket
connects, exactly as the HTTP client refuses it (gateways/tests/http/test_address_guard.py)."""

import socket

import pytest

from gateways.adapters.imap import ImapAdapter
from gateways.adapters.smtp import SmtpAdapter
from gateways.errors import ProviderUnavailable
from gateways.mail.connections import GuardedSMTP

PRIVATE_NAME = "intranet.example"


@pytest.fixture
def production(settings):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = []
    return settings


@pytest.fixture
def loopback_listeners():
    """Plain listening sockets on 127.0.0.1 and ::1, one port: a connection that got through would
    wait in their backlog, where `reached()` finds it without accepting anything else."""
    v4 = socket.create_server(("127.0.0.1", 0))
    port = v4.getsockname()[1]
    v6 = socket.create_server(("::1", port), family=socket.AF_INET6)
    listeners = [v4, v6]
    for listener in listeners:
        listener.setblocking(False)

    def reached() -> bool:
        for listener in listeners:
            try:
                listener.accept()[0].close()
                return True
            except BlockingIOError:
                pass
        return False

    yield port, reached
    for listener in listeners:
        listener.close()


@pytest.fixture
def connects(monkeypatch):
    """Every address a socket connected to (or tried to), by any code path."""
    attempts = []
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock, address):
        attempts.append(address)
        return real_connect(sock, address)

    def connect_ex(sock, address):
        attempts.append(address)
        return real_connect_ex(sock, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)
    real_resolve = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        if host == PRIVATE_NAME:
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.20.30.40", port))]
        return real_resolve(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    return attempts


def smtp(host, port, security, timeout=2.0):
    return SmtpAdapter(name="Relay", timeout=timeout, credentials={},
                       settings={"host": host, "port": str(port), "security": security,
                                 "from_email": "news@news.example.com"})


def imap(host, port, security):
    return ImapAdapter(name="Bounces", timeout=2, credentials={"username": "u", "password": "p"},
                       settings={"host": host, "port": str(port), "security": security})


LOOPBACK = [("127.0.0.1", "loopback"), ("127.1", "loopback"), ("0x7f000001", "loopback"),
            ("2130706433", "loopback"), ("[::1]", "loopback"), ("::1", "loopback"),
            ("[::ffff:127.0.0.1]", "loopback"), ("localhost", "loopback"), ("0.0.0.0", "unspecified")]
INTERNAL = [("10.0.0.1", "private"), ("169.254.169.254", "cloud metadata"), ("[fd00:ec2::254]", "cloud metadata"),
            ("192.168.1.10", "private"), (PRIVATE_NAME, "private")]
ADAPTERS = [(smtp, "starttls"), (smtp, "tls"), (smtp, "none"), (imap, "tls"), (imap, "starttls"), (imap, "none")]
ADAPTER_IDS = [f"{make.__name__}-{security}" for make, security in ADAPTERS]


def probe_refused(adapter) -> ProviderUnavailable:
    with pytest.raises(ProviderUnavailable) as caught:
        adapter.probe()
    return caught.value


@pytest.mark.parametrize("make, security", ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("host, reason", LOOPBACK)
def test_loopback_in_every_spelling_is_refused_before_connecting(production, loopback_listeners, connects,
                                                                 make, security, host, reason):
    port, reached = loopback_listeners
    refused = probe_refused(make(host, port, security))
    assert f"({reason})" in refused.message
    assert "internal address" in refused.advice
    assert connects == []
    assert not reached()


@pytest.mark.parametrize("make, security", ADAPTERS, ids=ADAPTER_IDS)
@pytest.mark.parametrize("host, reason", INTERNAL)
def test_internal_networks_are_refused_before_connecting(production, connects, make, security, host, reason):
    refused = probe_refused(make(host, 587, security))
    assert f"({reason})" in refused.message
    assert connects == []


def test_the_listeners_do_see_a_connection_that_gets_through(settings, loopback_listeners, connects):
    """The matrix above proves something: with private addresses allowed, the same probe reaches them."""
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = True
    port, reached = loopback_listeners
    with pytest.raises(ProviderUnavailable):
        smtp("127.0.0.1", port, "none", timeout=0.3).probe()  # the listener never greets
    assert connects == [("127.0.0.1", port)]
    assert reached()


def test_an_allowed_endpoint_is_exact_host_and_port(production, smtp_server):
    production.GATEWAYS_ALLOWED_ENDPOINTS = [f"127.0.0.1:{smtp_server.port}"]
    assert smtp("127.0.0.1", smtp_server.port, "none").probe().ok
    assert smtp_server.connections == 1
    production.GATEWAYS_ALLOWED_ENDPOINTS = [f"127.0.0.1:{smtp_server.port + 1}"]
    assert "(loopback)" in probe_refused(smtp("127.0.0.1", smtp_server.port, "none")).message


def test_imap_through_an_allowed_endpoint_still_logs_in(production, imap_account):
    production.GATEWAYS_ALLOWED_ENDPOINTS = [f"{imap_account.host}:{imap_account.server.port}"]
    adapter = ImapAdapter(name="Bounces", timeout=5, settings=imap_account.adapter_settings(),
                          credentials=imap_account.adapter_credentials())
    assert adapter.probe().ok


def test_the_guarded_smtp_client_resolves_once(settings, smtp_server, monkeypatch):
    """The address checked is the address connected to: no second lookup a rebinding DNS could answer."""
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = [f"pinned.example:{smtp_server.port}"]
    lookups = []
    real = socket.getaddrinfo

    def resolve(host, port, *args, **kwargs):
        lookups.append(host)
        return real("127.0.0.1" if host == "pinned.example" else host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    client = GuardedSMTP("pinned.example", smtp_server.port, local_hostname="news.example.com", timeout=5)
    assert client.noop()[0] == 250
    client.quit()
    assert lookups == ["pinned.example"]
