import importlib
import uuid

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.db import connection
from django.test import override_settings
from django.urls import clear_url_caches, set_urlconf
from rest_framework.test import APIClient

from aicmo_site.testing.pooler import pooler_close_connections
from aicmo_site.testing.template_db import template_drop, template_use
from aicmo_site.testing.worker import QClusterProcess

# Real mail servers for any app's tests: aiosmtpd (smtp_server, make_smtp_server) and a private
# Dovecot (dovecot, imap_account); moto as Amazon SES and a local SNS signer (ses_server, sns_signer).
pytest_plugins = ["gateways.testing.mailservers", "gateways.testing.aws_fixtures"]


def _xdist_controller(config) -> bool:
    return not hasattr(config, "workerinput") and config.getoption("dist", "no") != "no"


def pytest_configure(config):
    # The run's id names its template database; xdist makes one only after this, and tells only the workers.
    if _xdist_controller(config) and not config.getoption("testrunuid", None):
        config.option.testrunuid = uuid.uuid4().hex


def pytest_sessionfinish(session):
    if _xdist_controller(session.config) and not settings.DATABASE_TRANSACTION_POOLING:
        template_drop(session.config.option.testrunuid)


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings, request, django_db_blocker, django_db_keepdb,
                                 django_db_use_migrations):
    """With several xdist workers, each worker's test database is a copy of one migrated for the run
    (aicmo_site.testing.template_db), unless the databases are kept between runs (--reuse-db)."""
    workerinput = getattr(request.config, "workerinput", None)
    if (workerinput and int(workerinput["workercount"]) > 1 and not django_db_keepdb and django_db_use_migrations
            and not settings.DATABASE_TRANSACTION_POOLING):
        with django_db_blocker.unblock():
            template_use(workerinput["testrunuid"], verbosity=request.config.option.verbose)


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Behind PgBouncer (scripts/pgbouncer.sh) its idle server connections to the test database would stop
    the database being dropped at the end: the pooler is told to close them first."""
    yield
    if settings.DATABASE_TRANSACTION_POOLING:
        with django_db_blocker.unblock():
            pooler_close_connections(connection.settings_dict)


@pytest.fixture
def make_user(db, django_user_model):
    def make(username: str = "person", *, role: str | None = None, password: str = "pw-123456!", **extra):
        user = django_user_model.objects.create_user(username=username, password=password, **extra)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user

    return make


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def api_as(make_user):
    """An API client logged in as a new user with the given role."""

    def login(role: str | None, username: str | None = None):
        user = make_user(username or f"user-{(role or 'none').lower()}", role=role)
        client = APIClient()
        client.force_authenticate(user)
        client.user = user
        return client

    return login


@pytest.fixture
def qcluster(transactional_db):
    """Starts a real qcluster process on the test database; stopped after the test."""
    started = []

    def start(**extra_env) -> QClusterProcess:
        cluster = QClusterProcess(extra_env=extra_env).start()
        started.append(cluster)
        return cluster

    yield start
    for cluster in started:
        cluster.stop()


@pytest.fixture
def debug_media_urls():
    """The site's URLs as DEBUG builds them (the media files Django serves itself), for this test only."""
    with override_settings(DEBUG=True):
        clear_url_caches()
        yield importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    importlib.reload(importlib.import_module(settings.ROOT_URLCONF))
    clear_url_caches()
    set_urlconf(None)
