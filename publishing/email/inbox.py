"""Polling the bounce/reply mailboxes through gateways' inbox-reading capability."""

import logging

from gateways.capabilities import Capability
from gateways.errors import GatewayError
from gateways.models import ProviderAccount
from publishing.email.choices import InboundEventKind
from publishing.email.services.feedback import inbound_event_apply
from publishing.email.services.gateway import email_gateway

logger = logging.getLogger("publishing.email")


def inbox_poll(*, account_id: int) -> int:
    """Process the mailbox's new messages in UID order, moving the cursor after each, so a crash
    re-reads at most one message (and InboundEvent makes that harmless). Returns messages applied."""
    gateway = email_gateway()
    applied = 0
    for message in gateway.read_inbox(account_id):
        kind = {"bounce": InboundEventKind.BOUNCE, "reply": InboundEventKind.REPLY}.get(message.kind)
        if kind:
            event_id = message.message_id or f"uid:{message.uid}"
            if inbound_event_apply(
                source=f"inbox:{account_id}", event_id=event_id, kind=kind,
                message_ids=(message.in_reply_to, *message.references), email=message.bounce_recipient
                if kind == InboundEventKind.BOUNCE else message.from_email,
                bounce_type=message.bounce_type or "hard",
                detail={"subject": message.subject, "status": message.bounce_status,
                        "diagnostic": message.bounce_diagnostic},
            ):
                applied += 1
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
