import pytest

from gateways.tests.factories import ProviderAccountFactory


@pytest.fixture
def enrichment_account():
    """A real (test) enrichment provider: a run refuses to start without one."""
    return ProviderAccountFactory(name="enricher")
