"""pytest fixtures for Amazon SES and SNS (loaded from the root conftest's pytest_plugins):

- ses_server: moto's server (gateways.testing.ses) for the whole run, its SES state reset per test.
- sns_signer: an SNS signing key and certificate served by pytest-httpserver, with the verifier
  allowed to fetch from it (GATEWAYS_SNS_TEST_ORIGIN, a setting tests only may use).
"""

import pytest

from gateways.sns import forget_certificate
from gateways.testing.ses import SesServer
from gateways.testing.sns import SnsSigner


@pytest.fixture(scope="session")
def ses_server_for_the_run():
    server = SesServer().start()
    yield server
    server.stop()


@pytest.fixture
def ses_server(ses_server_for_the_run):
    ses_server_for_the_run.reset()
    yield ses_server_for_the_run
    ses_server_for_the_run.reset()


@pytest.fixture
def sns_signer(httpserver, settings):
    signer = SnsSigner(httpserver)
    settings.GATEWAYS_SNS_TEST_ORIGIN = signer.origin
    forget_certificate(signer.cert_url)  # another test's key may be cached under the same URL
    yield signer
    forget_certificate(signer.cert_url)
