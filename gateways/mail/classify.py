"""What a received message is: a bounce, a complaint, an auto-reply, a person's reply, or other.

Bounces are detected by flufl.bounce (GNU Mailman's detectors: RFC 3464 and dozens of non-standard
formats - qmail, Exim, Postfix, Exchange, Yahoo, AOL, GroupWise, SMTP32, Lotus...). It names the
failed recipients and whether each failure is permanent or temporary, and nothing else; the class
(from the RFC 3463 code), the status, the diagnostic text and the returned Message-ID are read here.

Order matters: a bounce often carries `Auto-Submitted: auto-replied` and an `In-Reply-To` naming our
message, so reports are recognised before auto-replies, and a message from a mailer daemon or with a
delivery report is never a reply.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import Message
from email.utils import getaddresses

from flufl.bounce import all_failures

from gateways.mail.dsn import (
    HARD,
    SOFT,
    failure_class,
    header,
    original_message_id,
    recipient_reports,
)

logger = logging.getLogger("gateways.mail")

BOUNCE = "bounce"
COMPLAINT = "complaint"
AUTO_REPLY = "auto-reply"
REPLY = "reply"
OTHER = "other"
KINDS = (BOUNCE, COMPLAINT, AUTO_REPLY, REPLY, OTHER)

_DAEMONS = frozenset({"mailer-daemon", "postmaster", "mail-daemon", "mailerdaemon", "mdaemon", "bounce",
                      "bounces", "mail.delivery.subsystem"})
_REPLY_SUBJECT = re.compile(r"^\s*(re|aw|sv|antw|réf|ref|rif|vs)\s*(\[\d+\])?\s*:", re.IGNORECASE)
# How vacation and out-of-office responders that send no Auto-Submitted header title their message,
# in English, German, French, Spanish, Italian, Dutch, Portuguese, the Nordic languages and Polish.
_VACATION_SUBJECT = re.compile(
    r"^\s*[\[(]?\s*("
    r"auto(matic|mated)?[\s_-]*(reply|response|answer)|autosvar|auto:|out of (the )?office|away from (the |my )?office"
    r"|on vacation|vacation( reply)?:|abwesenheit|automatische antwort|abwesend"
    r"|r[ée]ponse automatique|absence|absent|en cong[ée]s?"
    r"|respuesta autom[áa]tica|fuera de (la )?oficina|ausente"
    r"|risposta automatica|fuori ufficio|assente"
    r"|automatisch antwoord|afwezig(heid)?|resposta autom[áa]tica|aus[êe]ncia|fora do escrit[óo]rio"
    r"|automatiskt svar|fr[åa]nvaro|fraværende|automatisk svar|poza biurem|odpowied[źz] automatyczna"
    r")",
    re.IGNORECASE,
)
_ENHANCED_STATUS = re.compile(r"(?<![\d.])([245]\.\d{1,3}\.\d{1,3})(?!\.?\d)")
_REPLY_CODE = re.compile(r"(?<![\d.])([45]\d\d)(?:[\s-]|$)")
_ANGLE_ID = re.compile(r"<[^<>\s]+>")
_ANGLE_ADDRESS = re.compile(r"<([^<>\s@]+@[^<>\s@]+)>")
# Where a non-standard bounce starts quoting the original: what follows is not the report.
_QUOTE_STARTS = re.compile(
    r"^\s*-*\s*(original message|below this line|this is a copy|returned mail|start of returned message"
    r"|a copy of the original message|message headers follow|included is a copy|here is your returned mail)",
    re.IGNORECASE)
_REASON_LENGTH = 300


@dataclass(frozen=True)
class MailClassification:
    kind: str
    recipients: tuple[str, ...] = ()
    bounce_class: str = ""  # hard or soft, bounces only
    status: str = ""  # RFC 3463 code (5.1.1) or, when the report has none, the SMTP reply code (550)
    reason: str = ""
    original_message_id: str = ""
    recipient_classes: dict[str, str] = field(default_factory=dict)  # per recipient when they differ

    def as_dict(self) -> dict:
        return {"kind": self.kind, "recipients": list(self.recipients), "class": self.bounce_class,
                "status": self.status, "reason": self.reason}


def sender_address(message: Message) -> str:
    return next((address.lower() for _name, address in getaddresses([header(message, "From")]) if address), "")


def is_from_mailer_daemon(message: Message) -> bool:
    local = sender_address(message).partition("@")[0]
    return local in _DAEMONS or local.startswith(("mailer-daemon", "postmaster"))


def is_auto_reply(message: Message) -> bool:
    """RFC 3834 Auto-Submitted, the headers vacation responders use instead, and their subjects."""
    auto_submitted = header(message, "Auto-Submitted").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if header(message, "X-Autoreply") or header(message, "X-Autorespond") or header(message, "X-Autoresponder"):
        return True
    if header(message, "Precedence").lower() in ("auto_reply", "bulk", "junk"):
        return True
    return bool(_VACATION_SUBJECT.match(header(message, "Subject")))


def is_reply(message: Message) -> bool:
    return bool(header(message, "In-Reply-To") or header(message, "References")
                or _REPLY_SUBJECT.match(header(message, "Subject")))


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError, AttributeError, KeyError):
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content if isinstance(content, str) else ""


def report_text(message: Message, *, with_quote: bool = False) -> str:
    """The text the reporting server wrote: its text parts, not the parts that quote the original
    (unless `with_quote`: a non-standard bounce often quotes the original's headers there)."""
    texts: list[str] = []

    def visit(part: Message) -> None:
        content_type = part.get_content_type()
        if part.is_multipart() and part.get_content_maintype() == "multipart":
            for child in part.get_payload():
                visit(child)
        elif content_type == "text/plain":
            texts.append(_text_of(part))

    visit(message)
    if with_quote:
        return "\n".join(texts)
    lines = []
    for line in "\n".join(texts).replace("\r\n", "\n").splitlines():
        if _QUOTE_STARTS.match(line):
            break
        lines.append(line)
    return "\n".join(lines)


def _status_line(text: str, recipients: tuple[str, ...]) -> tuple[str, str]:
    """(status, the line saying it) from free text: the line naming a failed recipient first."""
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    # A line naming a recipient and saying something about it ("<a@b>:" alone says nothing).
    preferred = [line for line in lines if any(recipient in line.lower() and len(line) > len(recipient) + 3
                                               for recipient in recipients)]
    for pattern in (_ENHANCED_STATUS, _REPLY_CODE):
        for candidates in (preferred, lines):
            for line in candidates:
                found = pattern.search(line)
                if found and not found.group(1).startswith("2"):
                    return found.group(1), line
    return "", (preferred or [""])[0]


def _flufl_failures(raw: bytes) -> tuple[set[str], set[str]]:
    try:
        temporary, permanent = all_failures(message_from_bytes(raw, policy=email_policy.compat32))
    except Exception:  # a detector tripping on a malformed message must not lose the rest of it
        logger.warning("Bounce detection failed on a malformed message", exc_info=True)
        return set(), set()
    return _addresses(temporary), _addresses(permanent)


def _addresses(found) -> set[str]:
    return {address.decode("ascii", "replace").strip("<> ").lower() for address in found}


def _complaint(message: Message) -> MailClassification | None:
    report = next((part for part in message.walk() if part.get_content_type() == "message/feedback-report"), None)
    if report is None:
        return None
    payload = report.get_payload()
    fields = payload[0] if isinstance(payload, list) and payload else \
        message_from_bytes(report.get_payload(decode=True) or b"", policy=email_policy.compat32)
    recipients = [address.lower() for _n, address in getaddresses([header(fields, "Original-Rcpt-To")]) if address]
    if not recipients:
        for part in message.walk():
            if part.get_content_type() in ("message/rfc822", "text/rfc822-headers"):
                original = part.get_payload()[0] if part.get_content_type() == "message/rfc822" else \
                    message_from_bytes(part.get_payload(decode=True) or b"", policy=email_policy.compat32)
                recipients = [address.lower() for _n, address in getaddresses([header(original, "To")])
                              if "@" in address]
                break
    feedback_type = header(fields, "Feedback-Type").lower() or "abuse"
    agent = header(fields, "User-Agent")
    return MailClassification(kind=COMPLAINT, recipients=tuple(dict.fromkeys(recipients)),
                              reason=f"{feedback_type} report" + (f" from {agent}" if agent else ""),
                              original_message_id=original_message_id(message))


def _bounce(raw: bytes, message: Message) -> MailClassification | None:
    reports = recipient_reports(message)
    text = report_text(message)
    if reports:
        # The failure a sender must act on first: a permanent one over a delay.
        reports.sort(key=lambda report: report.action != "failed")
        first = reports[0]
        status, line = _status_line(text, (first.recipient,))
        status = first.status or status
        classes = {report.recipient: report.bounce_class for report in reports}
        return MailClassification(
            kind=BOUNCE, recipients=tuple(dict.fromkeys(report.recipient for report in reports)),
            bounce_class=failure_class(status, delayed=first.action == "delayed") if status else first.bounce_class,
            status=status, reason=(first.diagnostic or line or first.status_comment)[:_REASON_LENGTH],
            original_message_id=_original_message_id(message),
            recipient_classes=classes)
    temporary, permanent = _flufl_failures(raw)
    recipients = tuple(sorted(permanent)) + tuple(sorted(temporary - permanent))
    from_daemon = is_from_mailer_daemon(message)
    if not recipients and not from_daemon:
        return None
    status, line = _status_line(text, recipients)
    if not recipients:
        # A daemon's message that no detector knows: a bounce only when it states a failure code,
        # and then its recipient is the address on the line giving it (if any).
        if not status:
            return None
        recipients = tuple(address.lower() for address in _ANGLE_ADDRESS.findall(line))
    bounce_class = failure_class(status, permanent=not (temporary and not permanent))
    classes = {recipient: (bounce_class if recipient in permanent or not permanent else SOFT)
               for recipient in recipients}
    return MailClassification(
        kind=BOUNCE, recipients=recipients, bounce_class=bounce_class, status=status,
        reason=line[:_REASON_LENGTH], original_message_id=_original_message_id(message),
        recipient_classes=classes)


def _original_message_id(message: Message) -> str:
    return original_message_id(message, report_text(message, with_quote=True)) or _in_reply_to(message)


def _in_reply_to(message: Message) -> str:
    found = _ANGLE_ID.search(header(message, "In-Reply-To"))
    return found.group(0) if found else ""


def classify_message(raw: bytes, message: Message | None = None) -> MailClassification:
    """The kind of one raw RFC 822 message, with what a sender acts on (see the module docstring)."""
    message = message if message is not None else message_from_bytes(raw, policy=email_policy.default)
    found = _complaint(message) or _bounce(raw, message)
    if found is not None:
        return found
    if is_from_mailer_daemon(message):
        return MailClassification(kind=OTHER, reason="from a mail server, not a person")
    if is_auto_reply(message):
        return MailClassification(kind=AUTO_REPLY, reason=header(message, "Subject")[:_REASON_LENGTH],
                                  original_message_id=_in_reply_to(message))
    if is_reply(message):
        return MailClassification(kind=REPLY, original_message_id=_in_reply_to(message))
    return MailClassification(kind=OTHER)


__all__ = ["AUTO_REPLY", "BOUNCE", "COMPLAINT", "HARD", "KINDS", "OTHER", "REPLY", "SOFT", "MailClassification",
           "classify_message"]
