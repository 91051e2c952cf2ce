import pytest

from gateways.tests.factories import ProviderAccountFactory


@pytest.fixture
def enrichment_account():
    """A real (test) enrichment provider: a run refuses to start without one."""
    return ProviderAccountFactory(name="enricher")


@pytest.fixture
def contacts_api(api_as):
    """A marketer's API client whose permissions are loaded already, so each page's queries are its own."""
    client = api_as("Marketer")
    client.get("/api/contacts/")
    return client
