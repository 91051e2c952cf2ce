"""django-q2 entry points for outgoing webhooks."""

from dataclasses import asdict

from webhooks import services


def deliver_due() -> dict:
    """Delivers every message that is due; running it twice delivers nothing twice (claims)."""
    return asdict(services.messages_deliver_due())
