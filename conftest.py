import pytest
from django.contrib.auth.models import Group
from rest_framework.test import APIClient

from aicmo_site.testing.worker import QClusterProcess

# Real mail servers for any app's tests: aiosmtpd (smtp_server, make_smtp_server) and a private
# Dovecot (dovecot, imap_account).
pytest_plugins = ["gateways.testing.mailservers"]


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
