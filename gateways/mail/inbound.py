"""One received message, classified: a delivery-status bounce, a person's reply, or anything else."""

from __future__ import annotations

import re
from datetime import datetime
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage
from email.utils import getaddresses, parsedate_to_datetime

from gateways.capabilities import InboundMessage
from gateways.mail.dsn import is_delivery_report, parse_delivery_report
from gateways.mail.text import body_text, strip_quoted

REPLY = "reply"
BOUNCE = "bounce"
OTHER = "other"

_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|réf|ref|rif|vs)\s*(\[\d+\])?\s*:", re.IGNORECASE)
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def _header(message: EmailMessage, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        # A malformed header from a sender we do not control: read it as it came.
        value = next((raw for key, raw in message.raw_items() if key.lower() == name.lower()), None)
    return " ".join(str(value).split()) if value is not None else ""


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value)


def _first_message_id(value: str) -> str:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else ""


def is_auto_reply(message: EmailMessage) -> bool:
    """RFC 3834 Auto-Submitted, and the headers vacation responders use instead of it."""
    auto_submitted = _header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if _header(message, "X-Autoreply") or _header(message, "X-Autorespond"):
        return True
    return _header(message, "Precedence").lower() in ("auto_reply", "bulk", "junk")


def _sent_at(message: EmailMessage) -> datetime | None:
    try:
        return parsedate_to_datetime(_header(message, "Date"))
    except (TypeError, ValueError, IndexError):
        return None


def parse_inbound(raw: bytes, *, uid: int, uid_validity: int = 0,
                  received_at: datetime | None = None) -> InboundMessage:
    message = message_from_bytes(raw, policy=email_policy.default)
    found = InboundMessage(
        uid=uid,
        uid_validity=uid_validity,
        kind=OTHER,
        message_id=_first_message_id(_header(message, "Message-ID")),
        in_reply_to=_first_message_id(_header(message, "In-Reply-To")),
        references=_message_ids(_header(message, "References")),
        from_email=next((address.lower() for _n, address in getaddresses([_header(message, "From")]) if address),
                        ""),
        subject=_header(message, "Subject"),
        # The server's arrival time when known: a sender's Date header can say anything.
        received_at=received_at or _sent_at(message),
        text=body_text(message),
    )
    if is_delivery_report(message):
        report = parse_delivery_report(message)
        if report is not None and report.action == "failed":
            found.kind = BOUNCE
            found.bounce_recipient = report.recipient
            found.bounce_status = report.status
            found.bounce_type = report.bounce_type
            found.bounce_diagnostic = report.diagnostic
            found.original_message_id = report.original_message_id
            found.in_reply_to = report.original_message_id or found.in_reply_to
        return found
    if is_auto_reply(message):
        return found
    if found.in_reply_to or found.references or _REPLY_SUBJECT.match(found.subject):
        found.kind = REPLY
        found.text = strip_quoted(found.text)
    return found
