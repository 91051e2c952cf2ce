"""The bytes of one outgoing message, written directly.

Not email.message.EmailMessage: its header registry and pure-Python quoted-printable cost about 3.5 ms a
message, which caps one connection near 280 messages/s, far below what SMTP allows (about 1,900/s on
one Python connection). Here ASCII headers are written as they are, non-ASCII ones go through
email.header (RFC 2047), and bodies that are not 7-bit already as they are (8bit) when the server takes
8BITMIME (RFC 6152), otherwise through binascii's C quoted-printable encoder.

Extra headers the caller sets (List-Unsubscribe, List-Unsubscribe-Post) are written exactly as given,
folded only between their <...> entries: an encoded or re-folded List-Unsubscribe is not understood by
mailbox providers, so the one-click unsubscribe (RFC 8058) would silently stop working.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass
from email.header import Header
from email.utils import formataddr, formatdate, getaddresses, make_msgid
from functools import lru_cache

from gateways.capabilities import OutgoingEmail

CRLF = "\r\n"
_FOLD_AT = 78  # RFC 5322 §2.1.1: lines SHOULD stay under 78 characters ...
_MAX_LINE = 998  # ... and MUST stay under 998
_FIELD_NAME = re.compile(r"[!-9;-~]+")  # RFC 5322 §3.6.8: printable ASCII except the colon
ADDRESS_SPECIALS = frozenset(' <>(),;:"[]\\')
_RESERVED = {"message-id", "date", "from", "to", "subject", "reply-to", "mime-version", "content-type",
             "content-transfer-encoding"}


@dataclass(frozen=True)
class RenderedMessage:
    message_id: str
    sender: str  # the bare From address (the envelope sender unless the account sets a return path)
    recipient: str  # the bare To address (the envelope recipient)
    data: bytes  # CRLF line ends, ready for DATA (before dot-stuffing)
    eight_bit: bool = False  # a part is 8bit: the envelope must say BODY=8BITMIME


def make_message_id(domain: str) -> str:
    """A globally unique Message-ID on the sender's own domain (`<...@example.com>`)."""
    return make_msgid(domain=domain or "localhost")


@lru_cache(maxsize=256)  # the sender is the same for a whole campaign: parse it once
def parse_address(header_value: str) -> tuple[str, str]:
    """(display name, bare address) of a From/To value with exactly one address."""
    if "@" in header_value and not ADDRESS_SPECIALS.intersection(header_value):
        pairs = [("", header_value)]  # a bare address, by far the most common recipient
    else:
        pairs = [(display, address) for display, address in getaddresses([header_value]) if address]
    local, at, domain = pairs[0][1].rpartition("@") if len(pairs) == 1 else ("", "", "")
    if not (local and at and domain):
        raise ValueError(f"Expected one email address, got {header_value!r}.")
    return pairs[0]


def envelope_address(header_value: str) -> str:
    """The bare address of a From/To value ("Zoë <zoe@example.com>" -> "zoe@example.com")."""
    return parse_address(header_value)[1]


def _check(name: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        # A line break in a header value would let the caller's data add headers of its own.
        raise ValueError(f"Header {name} contains a line break.")


def _fold_words(name: str, value: str) -> str:
    """An ASCII header folded before spaces; unfolding gives back exactly `value`."""
    lines, line = [], f"{name}:"
    for word in value.split(" "):
        if len(line) + 1 + len(word) > _FOLD_AT and line.strip() and not line.endswith(":"):
            lines.append(line)
            line = ""
        line += " " + word
    lines.append(line)
    if any(len(line) > _MAX_LINE for line in lines):
        raise ValueError(f"Header {name} is longer than SMTP allows ({_MAX_LINE} characters per line).")
    return CRLF.join(lines)


def _text_header(name: str, value: str) -> str:
    _check(name, value)
    if value.isascii():
        return _fold_words(name, value)
    return f"{name}: " + Header(value, "utf-8", header_name=name).encode(linesep=CRLF, maxlinelen=_FOLD_AT)


def _address_header(name: str, value: str) -> str:
    _check(name, value)
    return f"{name}: " + formataddr(parse_address(value), charset="utf-8")


def _list_header(name: str, value: str) -> str:
    """List-Unsubscribe and friends: `<uri>, <uri>`, folded only between entries."""
    _check(name, value)
    if not value.isascii():
        return _text_header(name, value)
    line = f"{name}: {value}"
    if len(line) > _FOLD_AT:
        line = line.replace(">, <", f">,{CRLF} <")
    if any(len(part) > _MAX_LINE for part in line.split(CRLF)):
        raise ValueError(f"Header {name} is longer than SMTP allows ({_MAX_LINE} characters per line).")
    return line


def _text_part(subtype: str, content: str, *, eight_bit: bool) -> tuple[bytes, bool]:
    """The part, and whether it is 8bit. 7bit when the text already is (ASCII, lines under 998): nothing to
    encode, the usual case for English HTML. Otherwise, when `eight_bit` (the server takes 8BITMIME), 8bit:
    the UTF-8 as it is, if its lines fit SMTP's 998 bytes and it has no NUL (RFC 6152). Otherwise
    quoted-printable, which stays readable and 7-bit safe. Each decodes to the same text; binascii's
    quoted-printable was about two thirds of building a 10 kB newsletter that has one non-ASCII character
    or a line over 76 (bench/NOTES.md)."""
    normalised = content.replace("\r\n", "\n").replace("\r", "\n")
    if normalised and not normalised.endswith("\n"):
        normalised += "\n"
    if normalised.isascii() and max(map(len, normalised.split("\n"))) <= _MAX_LINE:
        encoding, body = "7bit", normalised.encode("ascii")
    else:
        body = normalised.encode("utf-8")
        if eight_bit and b"\0" not in body and max(map(len, body.split(b"\n"))) <= _MAX_LINE:
            encoding = "8bit"
        else:
            encoding, body = "quoted-printable", binascii.b2a_qp(body, istext=True)
    return (f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
            f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}").encode() + body.replace(b"\n", b"\r\n"), \
        encoding == "8bit"


def render_message(email: OutgoingEmail, *, default_from: str, eight_bit: bool = False) -> RenderedMessage:
    """Our Message-ID (the caller's when it set one), Date, From, To, Subject, Reply-To, the caller's
    extra headers verbatim, text and HTML as multipart/alternative (text alone without HTML). With
    `eight_bit` (the server offers 8BITMIME), parts that are not 7-bit may go as 8bit (_text_part).

    Raises ValueError when the message cannot be sent as given (no sender, line breaks in headers).
    """
    from_value = email.from_email or default_from
    if not from_value:
        raise ValueError("No sender: set from_email on the provider account or on the message.")
    _check("From", from_value)
    _check("To", email.to)
    sender, recipient = envelope_address(from_value), envelope_address(email.to)
    _check("Message-ID", email.message_id)
    message_id = email.message_id or make_message_id(sender.rpartition("@")[2])
    headers = [
        f"Message-ID: {message_id}",
        f"Date: {formatdate(usegmt=True)}",
        _address_header("From", from_value),
        _address_header("To", email.to),
        _text_header("Subject", email.subject),
    ]
    if email.reply_to:
        headers.append(_address_header("Reply-To", email.reply_to))
    for name, value in email.headers.items():
        if not _FIELD_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a valid header name.")
        if name.lower() in _RESERVED:
            raise ValueError(f"Header {name} is set by the sender itself and cannot be overridden.")
        headers.append(_list_header(name, value) if name.lower().startswith("list-") else _text_header(name, value))
    headers.append("MIME-Version: 1.0")
    head = (CRLF.join(headers) + CRLF).encode("ascii")
    text, text_8bit = _text_part("plain", email.text or "", eight_bit=eight_bit)
    if not email.html:
        return RenderedMessage(message_id, sender, recipient, head + text, eight_bit=text_8bit)
    html, html_8bit = _text_part("html", email.html, eight_bit=eight_bit)
    # "=_" cannot occur in quoted-printable output ("=" is always "=3D"); in a 7bit or 8bit part, the
    # boundary's 96 random bits keep it from colliding.
    # The line break before a boundary belongs to the boundary (RFC 2046 §5.1.1), hence the CRLF
    # in front of each one: without it every part would lose its last line break.
    boundary = f"=_aicmo_{secrets.token_hex(12)}"
    body = b"".join([
        f'Content-Type: multipart/alternative;{CRLF} boundary="{boundary}"{CRLF}{CRLF}--{boundary}{CRLF}'.encode(),
        text,
        f"{CRLF}--{boundary}{CRLF}".encode(),
        html,
        f"{CRLF}--{boundary}--{CRLF}".encode(),
    ])
    return RenderedMessage(message_id, sender, recipient, head + body, eight_bit=text_8bit or html_8bit)
