"""Server-side request forgery guard: with private addresses not allowed (production), no configured
URL reaches an internal address, however it is spelled, resolved or redirected to."""

import socket

import pytest

from gateways.errors import ProviderUnavailable
from gateways.http import ProviderHttp
from gateways.net import address_refusal


@pytest.fixture
def production(settings):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = []
    return settings


def http():
    return ProviderHttp(provider="hook", label="Webhook", timeout=1.0)


@pytest.mark.parametrize("host, reason", [
    ("127.0.0.1", "loopback"),
    ("127.1", "loopback"),
    ("0.0.0.0", "unspecified"),
    ("2130706433", "loopback"),
    ("[::1]", "loopback"),
    ("[::ffff:127.0.0.1]", "loopback"),
    ("localhost", "loopback"),
])
def test_loopback_in_every_spelling_is_refused_before_connecting(production, httpserver, host, reason):
    """The contract server listens on loopback: had the guard let the call through, it would have
    answered (or refused the connection) instead of the guard refusing it."""
    httpserver.expect_request("/hook").respond_with_data("ok")
    with pytest.raises(ProviderUnavailable) as caught:
        http().request("POST", f"http://{host}:{httpserver.port}/hook", json={})
    assert f"({reason})" in caught.value.message
    assert "internal address" in caught.value.advice
    assert httpserver.log == []
    httpserver.clear()


@pytest.mark.parametrize("url, reason", [
    ("http://10.0.0.1/hook", "private"),
    ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ("http://[fd00:ec2::254]/latest/meta-data/", "cloud metadata"),
    ("http://100.64.0.1/", "carrier-grade NAT"),
    ("http://192.168.1.10:8080/", "private"),
    ("http://224.0.0.1/", "multicast"),
    ("https://[::ffff:169.254.169.254]/", "cloud metadata"),
    ("http://[fe80::1]/", "link-local"),
])
def test_internal_networks_are_refused(production, url, reason):
    with pytest.raises(ProviderUnavailable) as caught:
        http().request("GET", url)
    assert f"({reason})" in caught.value.message


def test_a_name_is_refused_when_any_of_its_addresses_is_internal(production, monkeypatch):
    def resolve(host, port, *args):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    monkeypatch.setattr("gateways.net.socket.getaddrinfo", resolve)
    with pytest.raises(ProviderUnavailable, match=r"resolves to 10\.1\.2\.3 \(private\)"):
        http().request("GET", "http://rebind.example/")


def test_the_connection_goes_to_the_address_that_was_checked(settings, httpserver, monkeypatch):
    """One lookup per connection: a second answer (DNS rebinding) is never asked for. The Host header
    keeps the name."""
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = [f"pinned.example:{httpserver.port}"]
    lookups = []
    real = socket.getaddrinfo

    def resolve(host, port, *args):
        lookups.append(host)
        return real("127.0.0.1", port, *args) if host == "pinned.example" else real(host, port, *args)

    monkeypatch.setattr("gateways.net.socket.getaddrinfo", resolve)
    httpserver.expect_request("/hook", headers={"Host": f"pinned.example:{httpserver.port}"}).respond_with_data("ok")

    response = http().request("POST", f"http://pinned.example:{httpserver.port}/hook", json={})

    assert response.text == "ok"
    assert lookups == ["pinned.example"]


def test_a_redirect_to_the_metadata_address_is_refused(production, httpserver):
    """Loopback is allowed for the first hop only (an exact host:port allow-list entry)."""
    production.GATEWAYS_ALLOWED_ENDPOINTS = [f"localhost:{httpserver.port}"]
    httpserver.expect_request("/hook").respond_with_data("", status=302,
                                                         headers={"Location": "http://169.254.169.254/"})
    with pytest.raises(ProviderUnavailable) as caught:
        http().request("GET", httpserver.url_for("/hook"), follow_redirects=True)
    assert "169.254.169.254 (cloud metadata)" in caught.value.message
    assert len(httpserver.log) == 1


def test_the_allow_list_is_exact_host_and_port(production, httpserver):
    production.GATEWAYS_ALLOWED_ENDPOINTS = [f"localhost:{httpserver.port + 1}"]
    with pytest.raises(ProviderUnavailable, match="loopback"):
        http().request("GET", httpserver.url_for("/hook"))


def test_tests_and_development_may_reach_loopback(settings, httpserver):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = True
    httpserver.expect_request("/hook").respond_with_data("ok")
    assert http().request("GET", httpserver.url_for("/hook")).text == "ok"


@pytest.mark.parametrize("address, reason", [
    ("93.184.215.14", None),
    ("2606:2800:21f:cb07:6820:80da:af6b:8b2c", None),
    ("100.100.100.200", "cloud metadata"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("192.0.0.192", "cloud metadata"),
    ("192.0.0.8", "private"),
    ("198.18.0.1", "private"),
    ("240.0.0.1", "private"),
    ("2002:7f00:1::", "loopback"),  # 6to4 wrapping 127.0.0.1
    ("::", "unspecified"),
])
def test_address_refusal_reasons(address, reason):
    assert address_refusal(address) == reason


def _self_signed(tmp_path, name):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
            .not_valid_after(now + datetime.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def tls_server(tmp_path):
    """A TLS server on loopback whose certificate names `localhost` only."""
    import ssl

    from pytest_httpserver import HTTPServer

    cert, key = _self_signed(tmp_path, "localhost")
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = HTTPServer(host="localhost", port=0, ssl_context=context)
    server.start()
    yield server, cert
    server.clear()
    server.stop()


def test_tls_still_verifies_the_name_while_connecting_to_the_checked_address(settings, tls_server):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = True
    server, cert = tls_server
    server.expect_request("/hook").respond_with_data("ok")
    client = http()
    client.session.verify = str(cert)

    assert client.request("GET", server.url_for("/hook")).text == "ok"


def test_a_certificate_for_another_name_is_refused(settings, tls_server):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = True
    server, cert = tls_server
    client = http()
    client.session.verify = str(cert)

    with pytest.raises(ProviderUnavailable, match="TLS certificate of 127.0.0.1 could not be verified"):
        client.request("GET", f"https://127.0.0.1:{server.port}/hook")
    assert server.log == []
