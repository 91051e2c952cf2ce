"""A corpus of received mail, one .eml file each, written in the shape each mail server and mailbox
provider sends it (RFC 3464 reports in their variants, Postfix, Exim, qmail, Sendmail, Exchange and
Outlook.com NDRs, Gmail, Yahoo, Lotus Domino, GroupWise, SMTP32, AOL, ARF complaints, vacation
replies in several languages, a person's reply). Each message bounced, answered or complained about
our message ORIGINAL_MESSAGE_ID; `corpus_message` swaps in a real one and real addresses."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

CORPUS_DIR = Path(__file__).parent / "mail_corpus"
ORIGINAL_MESSAGE_ID = "<20261124090000.delivery-42@news.aicmo.example>"


class Expected(NamedTuple):
    kind: str
    recipients: tuple[str, ...] = ()
    bounce_class: str = ""
    status: str = ""
    names_original: bool = True  # the message quotes or answers our Message-ID


CORPUS = {
    "rfc3464_top_level.eml": Expected("bounce", ("gone@example.org",), "hard", "5.1.1"),
    "rfc3464_nested_in_mixed.eml": Expected("bounce", ("gone@example.org",), "hard", "5.1.1"),
    "rfc3464_without_report_type.eml": Expected("bounce", ("gone@example.org",), "hard", "5.1.2", False),
    "rfc3464_multiple_recipients.eml": Expected("bounce", ("gone@example.org", "full@example.org"), "hard",
                                                "5.1.1", False),
    "rfc3464_original_recipient.eml": Expected("bounce", ("john@example.org",), "hard", "5.1.1", False),
    "rfc3464_action_error.eml": Expected("bounce", ("gone@example.org",), "hard", "5.0.0", False),
    "rfc3464_action_failed_comment.eml": Expected("bounce", ("gone@example.org",), "hard", "5.1.1", False),
    "rfc3464_delayed.eml": Expected("bounce", ("slow@example.net",), "soft", "4.4.7"),
    "rfc3464_mailbox_full.eml": Expected("bounce", ("full@example.org",), "soft", "5.2.2", False),
    "postfix.eml": Expected("bounce", ("gone@example.org",), "hard", "5.1.1"),
    "exim.eml": Expected("bounce", ("gone@example.co.uk",), "hard", "5.1.1"),
    "qmail.eml": Expected("bounce", ("gone@example.com",), "hard", "5.1.1"),
    "sendmail.eml": Expected("bounce", ("gone@example.edu",), "hard", "5.1.1"),
    "exchange_ndr.eml": Expected("bounce", ("gone@example.com",), "hard", "5.1.1", False),
    "outlook_ndr.eml": Expected("bounce", ("gone@outlook.example",), "hard", "5.1.10"),
    "gmail.eml": Expected("bounce", ("gone@gmail.example",), "hard", "5.1.1"),
    "yahoo_text.eml": Expected("bounce", ("gone@yahoo.com",), "hard", "554"),
    "lotus_domino.eml": Expected("bounce", ("gone@domino.example.de",), "hard", "", False),
    "groupwise.eml": Expected("bounce", ("gone@gw.example.gov",), "hard", ""),
    "smtp32.eml": Expected("bounce", ("gone@imail.example.us",), "hard", "5.1.1"),
    "aol.eml": Expected("bounce", ("gonefishing@aol.com",), "hard", "5.1.1", False),
    "bounce_with_in_reply_to.eml": Expected("bounce", ("gone@legacy.example.org",), "hard", "5.1.1"),
    "mailer_daemon_success.eml": Expected("other", names_original=False),
    "arf_complaint.eml": Expected("complaint", ("fan@yahoo.example",)),
    "arf_headers_only.eml": Expected("complaint", ("fan@hotmail.example",)),
    "vacation_en.eml": Expected("auto-reply"),
    "vacation_de.eml": Expected("auto-reply"),
    "vacation_fr.eml": Expected("auto-reply"),
    "vacation_es.eml": Expected("auto-reply"),
    "vacation_nl.eml": Expected("auto-reply"),
    "vacation_it_outlook.eml": Expected("auto-reply"),
    "human_reply.eml": Expected("reply"),
}
SENDERS = {"human_reply.eml": "fan@example.org", "vacation_en.eml": "ann@example.org"}


def corpus_path(name: str) -> Path:
    return CORPUS_DIR / name


def corpus_message(name: str, *, message_id: str = ORIGINAL_MESSAGE_ID, addresses: dict[str, str] | None = None
                   ) -> bytes:
    """The file's bytes with CRLF line ends (as a server stores them), our Message-ID replaced by
    `message_id` and each address in `addresses` by its value."""
    text = corpus_path(name).read_text(encoding="utf-8").replace(ORIGINAL_MESSAGE_ID, message_id)
    for old, new in (addresses or {}).items():
        text = text.replace(old, new)
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()
