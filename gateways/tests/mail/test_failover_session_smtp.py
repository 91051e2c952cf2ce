"""The failover session over the real SMTP adapter and a real aiosmtpd server."""

import pytest

from gateways import services
from gateways.capabilities import Capability, OutgoingEmail
from gateways.errors import ProviderUnavailable

pytestmark = pytest.mark.django_db


def test_a_temporary_refusal_of_one_message_keeps_the_account_for_the_rest(make_smtp_server):
    server = make_smtp_server(temporary_failure_every=10)
    services.account_create(name="relay", capability=Capability.EMAIL_SENDING, adapter="smtp", priority=1,
                            settings={"host": server.host, "port": server.port, "security": "none",
                                      "from_email": "news@aicmo.example"})
    sent, refused = [], []
    with services.open_email_session() as session:
        for n in range(30):
            message = OutgoingEmail(to=f"p{n}@example.com", subject="Hi", text="Hello",
                                    from_email="news@aicmo.example", message_id=f"<m{n}@aicmo.example>")
            try:
                sent.append(session.send(message).message_id)
            except ProviderUnavailable as exc:
                assert exc.status == 454
                refused.append(n)
        assert session.failovers == 0

    assert len(refused) == 3 and len(sent) == 27
    assert len(server.messages) == 27
    assert server.connections == 1
