"""Delivery-status notifications (RFC 3464) and the class of a failure (RFC 3463).

A report's `message/delivery-status` part holds one block of per-message fields, then one block per
recipient (Original-Recipient, Final-Recipient, Action, Status, Diagnostic-Code). Real servers bend
the format: the report sits inside `multipart/mixed`, the `report-type` parameter is missing, Action
reads `failure`, `error` or `failed (Bad destination mailbox address)`, and Final-Recipient is an
internal address the receiving side rewrote to, while Original-Recipient holds the one we sent to.
So the part is looked for anywhere in the message and the fields are read leniently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import message_from_string
from email import policy as email_policy
from email.message import Message

HARD = "hard"
SOFT = "soft"
FAILED = "failed"
DELAYED = "delayed"
_REPORT_PARTS = ("message/delivery-status", "message/global-delivery-status")
_HEADER_PARTS = ("text/rfc822-headers", "text/global-headers")
_ORIGINAL_PARTS = ("message/rfc822", "message/global")
# Permanent codes that say nothing against the address itself (RFC 3463 §3.3-3.5): the mailbox is
# full or the message too big today, or it waited too long in a queue. Suppressing on them would
# drop people whose address works.
_SOFT_PERMANENT = frozenset({"5.2.2", "5.2.3", "5.3.4", "5.4.7"})
# SMTP reply codes (RFC 5321) for reports that carry no enhanced code: 552 is "exceeded storage".
_SOFT_REPLY_CODES = frozenset({"552"})
_MESSAGE_ID = re.compile(r"^\s*Message-ID:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)


@dataclass(frozen=True)
class RecipientReport:
    recipient: str
    action: str  # failed or delayed (the variants servers write are read as these two)
    status: str  # RFC 3463 code, e.g. 5.1.1; "" when the block has none
    diagnostic: str
    status_comment: str = ""  # "Status: 5.1.1 (Bad destination mailbox address)": the words after the code

    @property
    def bounce_class(self) -> str:
        return failure_class(self.status, delayed=self.action == DELAYED)


def failure_class(status: str, *, delayed: bool = False, permanent: bool = True) -> str:
    """hard (the address will never work) or soft (it may work later), from an RFC 3463 enhanced
    code ("5.1.1") or, failing that, an SMTP reply code ("550"); `permanent` decides when neither is known."""
    if delayed:
        return SOFT
    if status.startswith("4"):
        return SOFT
    if status.startswith("5"):
        return SOFT if status in _SOFT_PERMANENT or status in _SOFT_REPLY_CODES else HARD
    return HARD if permanent else SOFT


def _action(value: str) -> str:
    word = value.strip().lower().split(" ")[0].split("(")[0]
    if word.startswith(("fail", "error")):
        return FAILED
    return DELAYED if word.startswith("delay") else word


def _typed_value(value: str) -> str:
    """'rfc822; user@example.com' -> 'user@example.com' (the address-type / diagnostic-type prefix)."""
    kind, sep, rest = value.partition(";")
    return " ".join((rest if sep else kind).split())


def header(message: Message, name: str) -> str:
    """A header's value on one line; a malformed one from a sender we do not control, as it came."""
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):
        value = next((raw for key, raw in message.raw_items() if key.lower() == name.lower()), None)
    return " ".join(str(value).split()) if value is not None else ""


def _address(value: str) -> str:
    return _typed_value(value).strip("<> ").lower()


def _blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    # A part the parser left as text (an encoding it did not undo): its blocks are split by blank lines.
    text = part.get_payload(decode=True) or b""
    return [message_from_string(chunk, policy=email_policy.compat32)
            for chunk in re.split(r"\r?\n\s*\r?\n", text.decode("utf-8", "replace")) if chunk.strip()]


def recipient_reports(message: Message) -> list[RecipientReport]:
    """Every failed or delayed recipient of every delivery-status part, wherever it is nested."""
    reports = []
    for part in message.walk():
        if part.get_content_type() not in _REPORT_PARTS:
            continue
        for block in _blocks(part):
            recipient = _address(header(block, "Original-Recipient")) or _address(header(block, "Final-Recipient"))
            action = _action(header(block, "Action"))
            if recipient and "@" in recipient and action in (FAILED, DELAYED):
                status, _, comment = header(block, "Status").partition(" ")
                reports.append(RecipientReport(
                    recipient=recipient, action=action, status=status, status_comment=comment.strip("() "),
                    diagnostic=_typed_value(header(block, "Diagnostic-Code"))))
    return reports


def original_message_id(message: Message, text: str = "") -> str:
    """The Message-ID of the message that came back: from the returned message or its headers, else
    from headers quoted in the report's text (how most non-RFC 3464 bounces return them)."""
    for part in message.walk():
        content_type = part.get_content_type()
        if content_type in _ORIGINAL_PARTS:
            payload = part.get_payload()
            original = payload[0] if isinstance(payload, list) and payload else None
            found = _MESSAGE_ID.search(f"Message-ID: {header(original, 'Message-ID')}") if original else None
            if found:
                return found.group(1)
        elif content_type in _HEADER_PARTS:
            found = _MESSAGE_ID.search((part.get_payload(decode=True) or b"").decode("utf-8", "replace"))
            if found:
                return found.group(1)
    found = _MESSAGE_ID.search(text)
    return found.group(1) if found else ""
