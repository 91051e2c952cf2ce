"""pytest plugin: real mail servers on loopback.

Load it with `pytest_plugins = ["gateways.testing.mailservers"]` in the root conftest.py. Fixtures:
- smtp_server: an aiosmtpd server recording every message (SmtpTestServer), stopped after the test;
- make_smtp_server(**options): more of them, e.g. with STARTTLS, AUTH or failures;
- tls_certificate: a self-signed certificate for 127.0.0.1/localhost (cert_file doubles as CA file);
- dovecot: one private Dovecot per test session (per xdist worker);
- imap_account: a fresh IMAP user on it, with an empty INBOX, for one test.
"""

from __future__ import annotations

import pytest

from gateways.testing.dovecot import DovecotServer, ImapAccount
from gateways.testing.smtpserver import SmtpTestServer
from gateways.testing.tls import SelfSignedCertificate, make_certificate


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory) -> SelfSignedCertificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def make_smtp_server():
    started: list[SmtpTestServer] = []

    def start(**options) -> SmtpTestServer:
        server = SmtpTestServer(**options).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def smtp_server(make_smtp_server) -> SmtpTestServer:
    return make_smtp_server()


@pytest.fixture(scope="session")
def dovecot() -> DovecotServer:
    try:
        server = DovecotServer().start()
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    yield server
    server.stop()


@pytest.fixture
def imap_account(dovecot) -> ImapAccount:
    return dovecot.new_account()
