"""pytest fixtures for Amazon SES and SNS (loaded from the root conftest's pytest_plugins):

- ses_server: moto's server (gateways.testing.ses) for the whole run, its SES state reset per test.
- media_bucket: with `--media-storage=bucket` (or AICMO_TEST_MEDIA_STORAGE=bucket), the whole run keeps
  its media files (uploads, renditions, import files, error reports) in a bucket on that server, the
  test process and the workers it starts alike; `make_media_bucket` gives a test a bucket of its own.
- sns_signer: an SNS signing key and certificate served by pytest-httpserver, with the verifier
  allowed to fetch from it (GATEWAYS_SNS_TEST_ORIGIN, a setting tests only may use).
"""

import os

import pytest
from django.conf import settings
from django.test import override_settings

from gateways.sns import forget_certificate
from gateways.testing.s3 import MediaBucket, restore_environment, set_environment
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


def pytest_addoption(parser):
    parser.addoption("--media-storage", choices=("disk", "bucket"),
                     default=os.environ.get("AICMO_TEST_MEDIA_STORAGE", "disk"),
                     help="where the tests keep media files: disk (MEDIA_ROOT) or bucket (S3 on moto's server)")


@pytest.fixture(scope="session", autouse=True)
def media_bucket(request):
    """The run's media bucket with --media-storage=bucket, else None (files under MEDIA_ROOT)."""
    if request.config.getoption("--media-storage") != "bucket":
        yield None
        return
    bucket = MediaBucket(request.getfixturevalue("ses_server_for_the_run").url).create()
    # The environment too: a qcluster worker started by a test builds its settings from it.
    earlier = set_environment(bucket.environment())
    with override_settings(STORAGES=bucket.storages(settings.STORAGES), MEDIA_STORAGE_URL=bucket.url):
        yield bucket
    restore_environment(earlier)


@pytest.fixture
def make_media_bucket(ses_server_for_the_run, settings):
    """Puts this test's media in a new bucket of its own; returns the bucket."""
    earlier = {}

    def make(**options) -> MediaBucket:
        bucket = MediaBucket(ses_server_for_the_run.url, **options).create()
        earlier.update({k: v for k, v in set_environment(bucket.environment()).items() if k not in earlier})
        settings.STORAGES = bucket.storages(settings.STORAGES)
        settings.MEDIA_STORAGE_URL = bucket.url
        return bucket

    yield make
    restore_environment(earlier)


@pytest.fixture
def sns_signer(httpserver, settings):
    signer = SnsSigner(httpserver)
    settings.GATEWAYS_SNS_TEST_ORIGIN = signer.origin
    forget_certificate(signer.cert_url)  # another test's key may be cached under the same URL
    yield signer
    forget_certificate(signer.cert_url)
