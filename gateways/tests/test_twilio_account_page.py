"""An administrator sets up Twilio for SMS from the back office: the account form asks for what the
adapter needs and keeps the auth token out of the page once saved."""

import pytest
from django.urls import reverse

from gateways.capabilities import Capability
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db


def test_the_twilio_form_asks_for_the_sid_the_sender_and_the_token(client, make_user):
    client.force_login(make_user("ada", role="Admin"))
    page = client.get(reverse("gateways:provider-create", args=["twilio"])).content.decode()
    for field in ("account_sid", "from_number", "messaging_service_sid", "auth_token"):
        assert field in page


def test_a_saved_token_is_never_shown_again(client, make_user):
    account = ProviderAccountFactory(capability=Capability.SMS_SENDING, adapter="twilio", name="twilio",
                                     settings={"account_sid": "AC0123", "from_number": "+15005550006"},
                                     credentials={"auth_token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"})
    client.force_login(make_user("ada", role="Admin"))
    page = client.get(reverse("gateways:provider-edit", args=[account.pk])).content.decode()
    assert "AC0123" in page and "0f1e2d3c4b5a69788796a5b4c3d2e1f0" not in page
