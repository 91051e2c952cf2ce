"""Email in and out: writing the exact bytes we send, and reading what comes back (delivery-status
bounces, replies, auto-replies). Pure functions over the standard library; the SMTP and IMAP adapters
(gateways/adapters/smtp.py, imap.py) do the talking."""

from gateways.mail.compose import RenderedMessage, envelope_address, make_message_id, render_message
from gateways.mail.inbound import parse_inbound

__all__ = ["RenderedMessage", "envelope_address", "make_message_id", "parse_inbound",
           "render_message"]
