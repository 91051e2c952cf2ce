"""Email in and out: building the exact bytes we send, and reading what comes back (delivery-status
bounces, replies, auto-replies). Pure functions over the standard `email` package; the SMTP and IMAP
adapters (gateways/adapters/smtp.py, imap.py) do the talking."""

from gateways.mail.compose import build_message, envelope_address, make_message_id, message_bytes
from gateways.mail.inbound import MailboxMessage, parse_inbound

__all__ = ["MailboxMessage", "build_message", "envelope_address", "make_message_id", "message_bytes",
           "parse_inbound"]
