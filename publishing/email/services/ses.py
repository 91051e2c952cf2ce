"""Amazon SES bounce, complaint and delivery notifications (verified by the view, views/ses.py).

The same path as a bounce read from the mailbox (inbox.inbound_message_apply): each recipient a
notification names becomes one inbound event, recorded once by the SNS MessageId (and the recipient,
when it names several), so SNS's retries and a replayed message change nothing the second time. A hard
bounce suppresses the address, a complaint suppresses and unsubscribes it, a delivery counts in the
delivered figures. The delivery is found by the message tag SES echoes (our signed delivery tag), else
by the Message-ID SES gave the mail, else by the recipient's latest sent email.
"""

from gateways.services import SesEvent
from publishing.email.services.feedback import inbound_event_apply
from publishing.email.tokens import read_bounce_tag

SOURCE = "ses"


def ses_notification_apply(*, message_id: str, events: list[SesEvent]) -> int:
    """Apply the events of one verified SNS notification; returns how many were new. Each event is
    applied in its own transaction (inbound_event_apply), as the inbox applies each message."""
    applied = 0
    for event in events:
        delivery_id = next((found for found in map(read_bounce_tag, event.delivery_tags) if found), None)
        applied += inbound_event_apply(
            source=SOURCE, event_id=message_id if len(events) == 1 else f"{message_id} {event.email}",
            kind=event.kind, message_ids=tuple(event.message_ids), email=event.email,
            bounce_type=event.bounce_type or "hard", delivery_id=delivery_id,
            detail={"status": event.status, "diagnostic": event.diagnostic, "type": f"ses:{event.kind}"},
        )
    return applied
