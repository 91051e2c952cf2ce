"""Polling the bounce/reply mailboxes through gateways' inbox-reading capability."""

import logging
import re

from gateways.capabilities import Capability, InboundMessage
from gateways.errors import GatewayError
from gateways.models import ProviderAccount
from publishing.email.choices import InboundEventKind
from publishing.email.models import EmailDelivery
from publishing.email.services.feedback import delivery_unsubscribe, inbound_event_apply
from publishing.email.services.gateway import email_gateway
from publishing.email.tokens import read_bounce_tag, read_token

logger = logging.getLogger("publishing.email")
# The List-Unsubscribe mailto asks for "subject=unsubscribe-<token>" (composing.list_unsubscribe_headers).
_MAILTO_SUBJECT = re.compile(r"\bunsubscribe-([0-9a-f]+-?[0-9a-f]*\.[\w-]+)", re.IGNORECASE)


def _mailto_unsubscribe(message) -> bool:
    match = _MAILTO_SUBJECT.search(message.subject or "")
    claims = read_token("unsubscribe", match.group(1)) if match else None
    delivery = EmailDelivery.objects.select_related("contact").filter(pk=claims.delivery_id).first() if claims else None
    if delivery is None:
        return False
    delivery_unsubscribe(delivery=delivery, source="email:mailto")
    return True


_KINDS = {"bounce": InboundEventKind.BOUNCE, "complaint": InboundEventKind.COMPLAINT,
          "auto-reply": InboundEventKind.AUTO_REPLY, "reply": InboundEventKind.REPLY}


def inbound_message_apply(message: InboundMessage, *, source: str, event_id: str = "") -> int:
    """One classified message (from a mailbox or the inbound webhook): a bounce or complaint applies
    to each recipient it names (or, naming none, to the delivery its Message-ID names); a reply to
    its sender. Returns how many events were applied."""
    kind = _KINDS.get(message.kind)
    if message.kind not in ("bounce", "complaint") and _mailto_unsubscribe(message):
        return 1
    if kind is None:
        return 0
    event_id = message.message_id or event_id or f"uid:{message.uid}"
    by_report = kind in (InboundEventKind.BOUNCE, InboundEventKind.COMPLAINT)
    recipients = (message.bounce_recipients or [""]) if by_report else [message.from_email]
    # Only a report can come back to the tagged return path of one delivery.
    delivery_id = next((found for found in map(read_bounce_tag, message.return_path_tags) if found),
                       None) if by_report else None
    applied = 0
    for recipient in recipients:
        applied += inbound_event_apply(
            source=source, event_id=event_id if len(recipients) == 1 else f"{event_id} {recipient}",
            kind=kind, message_ids=(message.in_reply_to, *message.references), email=recipient,
            bounce_type=message.bounce_classes.get(recipient) or message.bounce_type or "hard",
            detail={"subject": message.subject, "status": message.bounce_status,
                    "diagnostic": message.bounce_diagnostic},
            delivery_id=delivery_id,
        )
    return applied


def inbox_poll(*, account_id: int) -> int:
    """Process the mailbox's new messages in UID order, moving the cursor after each, so a crash
    re-reads at most one message (and InboundEvent makes that harmless). Returns events applied."""
    gateway = email_gateway()
    applied = 0
    for message in gateway.read_inbox(account_id):
        applied += inbound_message_apply(message, source=f"inbox:{account_id}")
        gateway.inbox_cursor_advance(account_id, message.uid)
    return applied


def inboxes_poll() -> int:
    applied = 0
    for account_id in ProviderAccount.objects.filter(capability=Capability.INBOX_READING, enabled=True).values_list(
            "pk", flat=True):
        try:
            applied += inbox_poll(account_id=account_id)
        except GatewayError as exc:
            # One unreachable mailbox must not stop the others being read.
            logger.warning("Inbox %s could not be read: %s", account_id, exc)
    return applied
