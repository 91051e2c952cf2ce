"""One received message read into an InboundMessage, classified by gateways.mail.classify."""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from gateways.capabilities import InboundMessage
from gateways.mail.classify import AUTO_REPLY, BOUNCE, COMPLAINT, OTHER, REPLY, classify_message, header, sender_address
from gateways.mail.text import body_text, strip_quoted

__all__ = ["AUTO_REPLY", "BOUNCE", "COMPLAINT", "OTHER", "REPLY", "parse_inbound"]

_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
# Where the address a message was delivered to shows: the delivery agent's headers, then To (a
# bounce is addressed to the envelope sender of what bounced).
_DELIVERED_TO = ("delivered-to", "x-original-to", "envelope-to", "x-envelope-to", "to")


def _sent_at(message: EmailMessage) -> datetime | None:
    try:
        return parsedate_to_datetime(header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None


def _first_message_id(value: str) -> str:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else ""


def _return_path_tags(message: EmailMessage) -> list[str]:
    """The tag of every local+tag@domain the message was delivered to (gateways.adapters.smtp.tagged)."""
    values = [str(value) for name, value in message.raw_items() if name.lower() in _DELIVERED_TO]
    tags = []
    for _display, address in getaddresses(values):
        local, plus, tag = address.rpartition("@")[0].rpartition("+")
        if local and plus and tag:
            tags.append(tag.lower())
    return list(dict.fromkeys(tags))


def parse_inbound(raw: bytes, *, uid: int, uid_validity: int = 0,
                  received_at: datetime | None = None) -> InboundMessage:
    message = message_from_bytes(raw, policy=email_policy.default)
    classified = classify_message(raw, message)
    found = InboundMessage(
        uid=uid,
        uid_validity=uid_validity,
        kind=classified.kind,
        message_id=_first_message_id(header(message, "Message-ID")),
        in_reply_to=_first_message_id(header(message, "In-Reply-To")),
        references=_MESSAGE_ID.findall(header(message, "References")),
        from_email=sender_address(message),
        subject=header(message, "Subject"),
        # The server's arrival time when known: a sender's Date header can say anything.
        received_at=received_at or _sent_at(message),
        text=body_text(message),
        bounce_recipients=list(classified.recipients),
        bounce_recipient=classified.recipients[0] if classified.recipients else "",
        bounce_classes=dict(classified.recipient_classes),
        bounce_type=classified.bounce_class,
        bounce_status=classified.status,
        bounce_diagnostic=classified.reason,
        original_message_id=classified.original_message_id,
        return_path_tags=_return_path_tags(message),
    )
    if classified.kind in (BOUNCE, COMPLAINT):
        # Looked up like a reply: by the Message-ID of ours that came back.
        found.in_reply_to = classified.original_message_id or found.in_reply_to
    elif classified.kind == REPLY:
        found.text = strip_quoted(found.text)
    return found
