import pytest

from gateways.tests import fakes


@pytest.fixture(autouse=True)
def fake_providers():
    fakes.reset()
    fakes.FakeInboxAdapter.MAILBOX = []
    fakes.FakeChannelAdapter.POSTED = {}
    yield fakes
    fakes.reset()
