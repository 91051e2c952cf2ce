import pytest
from django.test import Client

from gateways.tests import fakes


@pytest.fixture(autouse=True)
def fake_providers():
    fakes.reset()
    fakes.FakeInboxAdapter.MAILBOX = []
    fakes.FakeInboxAdapter.VALIDITY = 0
    fakes.FakeChannelAdapter.POSTED = {}
    yield fakes
    fakes.reset()


@pytest.fixture
def login(make_user):
    """A client logged in as a new user with the given role."""

    def as_role(role):
        client = Client()
        client.force_login(make_user(f"user-{role.lower()}", role=role))
        return client

    return as_role
