"""The bytes of one outgoing message.

Extra headers the caller sets (List-Unsubscribe, List-Unsubscribe-Post) are written exactly as given:
the standard library's folding would turn a long List-Unsubscribe into RFC 2047 encoded words, which
mailbox providers do not decode, so the one-click unsubscribe (RFC 8058) would silently stop working.
"""

from __future__ import annotations

from email import policy as email_policy
from email.message import EmailMessage
from email.utils import formatdate, getaddresses, make_msgid

from gateways.capabilities import OutgoingEmail

# CRLF line ends for SMTP; refold_source="none" keeps headers added with set_raw exactly as given.
WIRE_POLICY = email_policy.SMTP.clone(refold_source="none")
_MAX_LINE = 998  # RFC 5322 §2.1.1: a hard limit on every line, headers included
_RESERVED = {"message-id", "date", "from", "to", "subject", "reply-to", "mime-version", "content-type",
             "content-transfer-encoding"}


def make_message_id(domain: str) -> str:
    """A globally unique Message-ID on the sender's own domain (`<...@example.com>`)."""
    return make_msgid(domain=domain or "localhost")


def envelope_address(header_value: str) -> str:
    """The bare address of a From/To value ("Zoë <zoe@example.com>" -> "zoe@example.com")."""
    addresses = [address for _name, address in getaddresses([header_value]) if address]
    local, at, domain = addresses[0].rpartition("@") if len(addresses) == 1 else ("", "", "")
    if not (local and at and domain):
        raise ValueError(f"Expected one email address, got {header_value!r}.")
    return addresses[0]


def _domain(address: str) -> str:
    return address.rpartition("@")[2]


def _check_header_value(name: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        # A line break in a header value would let the caller's data add headers of its own.
        raise ValueError(f"Header {name} contains a line break.")


def _fold_uri_list(value: str) -> str:
    """Fold a List-Unsubscribe style list between its <...> entries, the only safe places."""
    if len(value) <= 78 - len("List-Unsubscribe: "):
        return value
    return value.replace(">, <", ">,\n <").replace(">,<", ">,\n <")


def _set_extra_header(message: EmailMessage, name: str, value: str) -> None:
    _check_header_value(name, value)
    if name.lower() in _RESERVED:
        raise ValueError(f"Header {name} is set by the sender itself and cannot be overridden.")
    if not value.isascii():
        message[name] = value  # encoded (RFC 2047) by the policy
        return
    folded = _fold_uri_list(value)
    if any(len(name) + 2 + len(line) > _MAX_LINE for line in folded.split("\n")):
        raise ValueError(f"Header {name} is longer than SMTP allows ({_MAX_LINE} characters per line).")
    message.set_raw(name, folded)


def build_message(email: OutgoingEmail, *, default_from: str) -> EmailMessage:
    """An EmailMessage ready for the wire: our Message-ID (the caller's when it set one), Date, From,
    To, Subject, Reply-To, the caller's extra headers verbatim, text and HTML as multipart/alternative.

    Raises ValueError when the message cannot be sent as given (no sender, line breaks in headers).
    """
    from_value = email.from_email or default_from
    if not from_value:
        raise ValueError("No sender: set from_email on the provider account or on the message.")
    sender = envelope_address(from_value)
    envelope_address(email.to)
    for name, value in (("To", email.to), ("From", from_value), ("Subject", email.subject),
                        ("Reply-To", email.reply_to), ("Message-ID", email.message_id)):
        _check_header_value(name, value)

    message = EmailMessage(policy=email_policy.SMTP)
    message["Message-ID"] = email.message_id or make_message_id(_domain(sender))
    message["Date"] = formatdate(usegmt=True)
    message["From"] = from_value
    message["To"] = email.to
    message["Subject"] = email.subject
    if email.reply_to:
        message["Reply-To"] = email.reply_to
    for name, value in email.headers.items():
        _set_extra_header(message, name, value)
    # Quoted-printable keeps every line under 998 octets and the body 7-bit, whatever the server offers.
    message.set_content(email.text or "", cte="quoted-printable")
    if email.html:
        message.add_alternative(email.html, subtype="html", cte="quoted-printable")
    return message


def message_bytes(message: EmailMessage) -> bytes:
    return message.as_bytes(policy=WIRE_POLICY)

