import pytest

from gateways.tests import fakes


@pytest.fixture(autouse=True)
def fake_providers():
    fakes.reset()
    fakes.FakeInboxAdapter.MAILBOX = []
    fakes.FakeInboxAdapter.VALIDITY = 0
    fakes.FakeChannelAdapter.POSTED = {}
    yield fakes
    fakes.reset()
