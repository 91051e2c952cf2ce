"""What an Amazon SES notification says, in neutral terms: one event per recipient it names.

SES posts these to SNS for an identity's notifications ("notificationType") or a configuration set's
event destination ("eventType"); Bounce, Complaint and Delivery are read, anything else is ignored.
Shapes: https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html and event-publishing-
retrieving-sns-contents.html. A Permanent bounce is hard; Transient and Undetermined are soft (they
are counted, and suppress only past the soft-bounce limit).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from gateways.adapters.ses import DELIVERY_TAG, ses_message_ids

KINDS = {"Bounce": "bounce", "Complaint": "complaint", "Delivery": "delivered"}


@dataclass
class SesEvent:
    kind: str  # bounce, complaint or delivered
    email: str
    message_ids: list[str] = field(default_factory=list)  # the Message-IDs the mail went out with
    delivery_tags: list[str] = field(default_factory=list)  # the aicmo-delivery message tag's values
    bounce_type: str = ""  # hard or soft, for a bounce
    status: str = ""  # the recipient's enhanced status code, e.g. 5.1.1
    diagnostic: str = ""


def _region(topic_arn: str, mail: dict) -> str:
    for arn in (str(mail.get("sourceArn") or ""), topic_arn):
        parts = arn.split(":")
        if len(parts) > 3 and parts[3]:
            return parts[3]
    return ""


def _mail_ids(mail: dict, region: str) -> list[str]:
    ids = ses_message_ids(str(mail.get("messageId") or ""), region)
    common = (mail.get("commonHeaders") or {}).get("messageId")
    if isinstance(common, str) and common:
        ids.append(common)
    for header in mail.get("headers") or []:
        if isinstance(header, dict) and str(header.get("name", "")).lower() == "message-id":
            ids.append(str(header.get("value") or ""))
    return [value for value in dict.fromkeys(ids) if value]


def ses_events(message_text: str, *, topic_arn: str = "") -> list[SesEvent]:
    """The events of an SNS notification's Message; [] for a type we do not read. Raises ValueError
    when the Message is not an SES notification."""
    body = json.loads(message_text)
    if not isinstance(body, dict):
        raise ValueError("the notification's Message is not a JSON object")
    kind = KINDS.get(str(body.get("notificationType") or body.get("eventType") or ""))
    mail = body.get("mail")
    if kind is None:
        return []
    if not isinstance(mail, dict):
        raise ValueError("an SES notification has a mail object")
    ids = _mail_ids(mail, _region(topic_arn, mail))
    tags = [str(value) for value in ((mail.get("tags") or {}).get(DELIVERY_TAG) or [])]
    common = {"message_ids": ids, "delivery_tags": tags}
    if kind == "bounce":
        bounce = body.get("bounce") or {}
        hard = "hard" if bounce.get("bounceType") == "Permanent" else "soft"
        return [SesEvent(kind, str(recipient.get("emailAddress") or ""), bounce_type=hard,
                         status=str(recipient.get("status") or ""),
                         diagnostic=str(recipient.get("diagnosticCode") or "")[:500], **common)
                for recipient in bounce.get("bouncedRecipients") or [] if isinstance(recipient, dict)]
    if kind == "complaint":
        complaint = body.get("complaint") or {}
        feedback = str(complaint.get("complaintFeedbackType") or "")
        return [SesEvent(kind, str(recipient.get("emailAddress") or ""), diagnostic=feedback, **common)
                for recipient in complaint.get("complainedRecipients") or [] if isinstance(recipient, dict)]
    delivery = body.get("delivery") or {}
    return [SesEvent(kind, str(address), diagnostic=str(delivery.get("smtpResponse") or "")[:500], **common)
            for address in delivery.get("recipients") or [] if isinstance(address, str)]
