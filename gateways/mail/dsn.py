"""Delivery-status notifications (RFC 3464): `multipart/report; report-type=delivery-status`.

The report's second part is `message/delivery-status`: one block of per-message fields, then one
block per recipient (Final-Recipient, Action, Status, Diagnostic-Code). The third part, when present,
is the original message (`message/rfc822`) or only its headers (`text/rfc822-headers`); its
Message-ID is how the sender finds the delivery that bounced.
"""

from __future__ import annotations

from dataclasses import dataclass
from email import message_from_string
from email import policy as email_policy
from email.message import EmailMessage, Message


@dataclass
class BounceReport:
    recipient: str
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # RFC 3463 code, e.g. 5.1.1
    diagnostic: str
    original_message_id: str

    @property
    def bounce_type(self) -> str:
        """hard (5.x.x: the address will never work) or soft (4.x.x: it may work later)."""
        return "hard" if self.status.startswith("5") else "soft"


def is_delivery_report(message: EmailMessage) -> bool:
    return (message.get_content_type() == "multipart/report"
            and message.get_param("report-type", "").lower() == "delivery-status")


def _typed_value(value: str) -> str:
    """'rfc822; user@example.com' -> 'user@example.com' (the address-type / diagnostic-type prefix)."""
    kind, sep, rest = value.partition(";")
    return " ".join((rest if sep else kind).split())


def _field(block: Message, name: str) -> str:
    value = block.get(name)
    return " ".join(str(value).split()) if value is not None else ""


def _recipient_blocks(report: EmailMessage) -> list[Message]:
    for part in report.walk():
        if part.get_content_type() in ("message/delivery-status", "message/global-delivery-status"):
            blocks = part.get_payload()
            if isinstance(blocks, list):
                # The first block holds the per-message fields (Reporting-MTA, Arrival-Date).
                return [block for block in blocks[1:] if isinstance(block, Message)]
    return []


def _original_message_id(report: EmailMessage) -> str:
    for part in report.walk():
        content_type = part.get_content_type()
        if content_type in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) and payload else None
            if original is not None and original.get("Message-ID"):
                return str(original["Message-ID"]).strip()
        elif content_type in ("text/rfc822-headers", "text/global-headers"):
            headers = message_from_string(part.get_content(), policy=email_policy.default)
            if headers.get("Message-ID"):
                return str(headers["Message-ID"]).strip()
    return ""


def parse_delivery_report(report: EmailMessage) -> BounceReport | None:
    """The first failed recipient of a DSN (the one a sender must act on), else the first recipient
    block; None when the report has no recipient at all."""
    blocks = _recipient_blocks(report)
    if not blocks:
        return None
    failed = [block for block in blocks if _field(block, "Action").lower() == "failed"]
    block = (failed or blocks)[0]
    recipient = _typed_value(_field(block, "Final-Recipient") or _field(block, "Original-Recipient"))
    status = _field(block, "Status").split(" ")[0]
    return BounceReport(
        recipient=recipient.strip("<>").lower(),
        action=_field(block, "Action").lower(),
        status=status,
        diagnostic=_typed_value(_field(block, "Diagnostic-Code")),
        original_message_id=_original_message_id(report),
    )
