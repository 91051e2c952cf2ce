"""Real-world inbound messages for tests, byte for byte in the shape real software sends them:
a Postfix delivery-status bounce, a Gmail-style reply quoting our message, a vacation auto-reply."""

from __future__ import annotations

import quopri
import uuid

_POSTFIX_BOUNCE = """\
Return-Path: <>
Delivered-To: {to}
Date: Tue, 24 Nov 2026 03:00:05 +0000 (UTC)
From: MAILER-DAEMON@mx.example.org (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {to}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
\tboundary="3B8E2C0123.1795489205/mx.example.org"
Content-Transfer-Encoding: 7bit
Message-Id: <20261124030005.{queue_id}@mx.example.org>

This is a MIME-encapsulated message.

--3B8E2C0123.1795489205/mx.example.org
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.org.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<{recipient}>: host mx.example.org[192.0.2.10] said: {diagnostic}
    (in reply to RCPT TO command)

--3B8E2C0123.1795489205/mx.example.org
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.org
X-Postfix-Queue-ID: {queue_id}
X-Postfix-Sender: rfc822; {to}
Arrival-Date: Tue, 24 Nov 2026 03:00:01 +0000 (UTC)

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; mx.example.org
Diagnostic-Code: smtp; {diagnostic_folded}

--3B8E2C0123.1795489205/mx.example.org
Content-Description: {original_description}
Content-Type: {original_type}

{original}
--3B8E2C0123.1795489205/mx.example.org--
"""


def _crlf(text: str) -> bytes:
    return text.replace("\r\n", "\n").replace("\n", "\r\n").encode()


def postfix_bounce(*, original: bytes, recipient: str, to: str = "bounces@aicmo.example",
                   status: str = "5.1.1", action: str = "failed", headers_only: bool = False,
                   diagnostic: str = "") -> bytes:
    """A DSN as Postfix writes it for `original` (the bytes we sent). `headers_only` attaches just
    the original's headers (text/rfc822-headers), as Postfix does with `bounce_size_limit` hit or
    when told to return headers only."""
    diagnostic = diagnostic or (
        f"550 {status} <{recipient}>: Recipient address rejected: User unknown in local recipient table"
        if status.startswith("5") else f"452 {status} <{recipient}>: Mailbox full, try again later"
    )
    text = original.decode("utf-8", errors="replace").replace("\r\n", "\n")
    if headers_only:
        text = text.split("\n\n", 1)[0] + "\n"
    words = diagnostic.split(" ")
    folded = " ".join(words[:6]) + ("\n    " + " ".join(words[6:]) if len(words) > 6 else "")
    return _crlf(_POSTFIX_BOUNCE.format(
        to=to, recipient=recipient, status=status, action=action, diagnostic=diagnostic,
        diagnostic_folded=folded, queue_id="3B8E2C0123",
        original_description="Undelivered Message Headers" if headers_only else "Undelivered Message",
        original_type="text/rfc822-headers" if headers_only else "message/rfc822",
        original=text,
    ))


def gmail_reply(*, in_reply_to: str, from_email: str, to: str, subject: str, text: str,
                quoted: str = "Thanks for the newsletter.") -> bytes:
    """A reply as Gmail sends it: multipart/alternative, the earlier message quoted below an
    attribution line that wraps, In-Reply-To and References set."""
    quote = "\n".join(f"> {line}" for line in quoted.splitlines())
    text = quopri.encodestring(text.encode()).decode()
    return _crlf(f"""\
MIME-Version: 1.0
Date: Tue, 24 Nov 2026 10:12:00 +0100
References: {in_reply_to}
In-Reply-To: {in_reply_to}
Message-ID: <CAF{uuid.uuid4().hex}@mail.gmail.com>
Subject: Re: {subject}
From: Ann Example <{from_email}>
To: {to}
Content-Type: multipart/alternative; boundary="000000000000a1b2c3"

--000000000000a1b2c3
Content-Type: text/plain; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

{text}

On Mon, 23 Nov 2026 at 18:00, AICMO Newsletter <{to}>
wrote:

{quote}

--000000000000a1b2c3
Content-Type: text/html; charset="UTF-8"
Content-Transfer-Encoding: quoted-printable

<div dir=3D"ltr">{text}</div><br><div class=3D"gmail_quote"><blockquote>{quoted}</blockquote></div>

--000000000000a1b2c3--
""")


def vacation_auto_reply(*, in_reply_to: str, from_email: str, to: str, subject: str) -> bytes:
    """An out-of-office answer as the Sieve vacation extension (RFC 5230) sends it."""
    return _crlf(f"""\
Date: Tue, 24 Nov 2026 10:00:00 +0100
From: <{from_email}>
To: <{to}>
Subject: Auto: {subject}
In-Reply-To: {in_reply_to}
References: {in_reply_to}
Message-ID: <dovecot-sieve-1795489205-1@mail.example.org>
Auto-Submitted: auto-replied (vacation)
X-Autoreply: yes
Precedence: bulk
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8
Content-Transfer-Encoding: 8bit

I am away until 1 December and will read your message when I am back.
""")
