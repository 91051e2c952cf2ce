"""Sending email over SMTP (key "smtp"): one connection per session, reused for a whole batch, with
MAIL, RCPT and DATA pipelined when the server offers PIPELINING (RFC 2920).

How the server's answers map to gateway errors (the chain and the email campaign act on the type):
- cannot connect, TLS or EHLO fails, login refused, connection lost before the end of the message:
  ProviderUnavailable; nothing was sent, so sending again (here or elsewhere) is safe.
- 4xx for a message (450, 451, 452, 454: "try again later"): ProviderUnavailable, temporary, for
  this message only: nothing was accepted, and the session stays usable for the next message
  (details["session_usable"]). Not RateLimited: one greylisted message must not stop the account.
- 421 (the server is busy and closes the connection): RateLimited with `retry_after` (the server does
  not say how long; GATEWAYS_SMTP_RETRY_AFTER_SECONDS), so the chain leaves the account alone a while.
- 5xx for a message (550 or 553 for a recipient, 552 or 554 for the content): ProviderRejected,
  permanent for this message; the session sends RSET and stays usable for the next one.
- 530/534/535/538 (credentials wanted or refused): ProviderUnavailable with advice, for the account.
- connection lost after the whole message (the final ".") was written but before the server's
  answer: OutcomeUnknown. The server may have queued it: never send it again. Only the message in
  flight can be caught so, one per connection at most; the next send opens a fresh connection.
"""

from __future__ import annotations

import re
import smtplib
import socket
import ssl
import time

from gateways.capabilities import EmailSendingAdapter, EmailSession, OutgoingEmail, ProbeResult, SendReceipt, register
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.mail.compose import ADDRESS_SPECIALS as _ADDRESS_SPECIALS
from gateways.mail.compose import RenderedMessage, render_message
from gateways.mail.conf import smtp_retry_after_seconds
from gateways.mail.connections import GuardedSMTP, GuardedSMTPSSL, refused_address
from gateways.mail.tls import tls_context
from gateways.net import AddressRefused
from gateways.send_steps import SendSteps, Step, run_steps

SECURITY_MODES = ("starttls", "tls", "none")
DEFAULT_PORTS = {"starttls": 587, "tls": 465, "none": 25}
_STAGES = (("sender", (250,)), ("recipient", (250, 251)), ("data", (354,)))
_AUTH_CODES = {530, 534, 535, 538}  # the server wants (other) credentials: the account, not the message


_TAG = re.compile(r"[0-9a-z-]{1,40}")


def tagged(return_path: str, tag: str) -> str:
    """VERP: "bounces@example.com" with tag "2a-9f" is "bounces+2a-9f@example.com" (the "+" recipient
    delimiter Postfix, Exim, Dovecot and most hosted mailboxes deliver to the untagged mailbox). Only a
    return path of the account's own is tagged: the From address may not accept tagged mail."""
    if not (return_path and tag and _TAG.fullmatch(tag)):
        return return_path
    local, _, domain = return_path.rpartition("@")
    return f"{local}+{tag}@{domain}"


def _reply_text(text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " ".join(text.split())


@register
class SmtpAdapter(EmailSendingAdapter):
    key = "smtp"
    label = "SMTP server"
    parameters = ("host", "port", "security", "from_email", "helo_name", "return_path", "ca_file")
    secret_parameters = ("username", "password")

    # ---- configuration ----------------------------------------------------------------------

    def _setting(self, name: str) -> str:
        return str(self.settings.get(name) or "").strip()

    @property
    def security(self) -> str:
        security = (self._setting("security") or "starttls").lower()
        if security not in SECURITY_MODES:
            raise ProviderUnavailable(
                f"Unknown security {security!r}", provider=self.name,
                advice=f"Set security to one of {', '.join(SECURITY_MODES)} in Provider accounts.",
            )
        return security

    @property
    def host(self) -> str:
        host = self._setting("host")
        if not host:
            raise ProviderUnavailable("No SMTP host configured", provider=self.name,
                                      advice="Set the SMTP host in Provider accounts.")
        return host

    @property
    def port(self) -> int:
        raw = self._setting("port")
        if not raw:
            return DEFAULT_PORTS[self.security]
        try:
            return int(raw)
        except ValueError:
            raise ProviderUnavailable(f"SMTP port {raw!r} is not a number", provider=self.name,
                                      advice="Set the SMTP port (25, 465 or 587) in Provider accounts.")

    @property
    def from_email(self) -> str:
        return self._setting("from_email")

    @property
    def return_path(self) -> str:
        """The envelope sender, where bounces go (the mailbox the IMAP account reads); From when empty."""
        address = self._setting("return_path")
        if address and (len(address.split()) != 1 or "@" not in address or set("<>\r\n") & set(address)):
            raise ProviderUnavailable(f"Return path {address!r} is not one bare address", provider=self.name,
                                      advice="Set the return path to an address like bounces@example.com.")
        return address

    @property
    def helo_name(self) -> str:
        # Not socket.getfqdn(): it can block for seconds on a DNS lookup; the sender's domain is
        # what receiving servers expect to see anyway.
        return self._setting("helo_name") or (self.from_email.rpartition("@")[2].rstrip(">") or "localhost")

    # ---- connecting -------------------------------------------------------------------------

    def connect(self) -> smtplib.SMTP:
        """A connection ready for MAIL FROM: greeting, EHLO, STARTTLS (then EHLO again), AUTH."""
        host, port, security = self.host, self.port, self.security
        smtp: smtplib.SMTP | None = None
        try:
            if security == "tls":
                smtp = GuardedSMTPSSL(host, port, local_hostname=self.helo_name, timeout=self.timeout,
                                        context=tls_context(self._setting("ca_file")))
            else:
                smtp = GuardedSMTP(host, port, local_hostname=self.helo_name, timeout=self.timeout)
            # The message's end (".") is written on its own, after the content, once the caller has recorded
            # it as going out: with Nagle's algorithm those three bytes would wait for the server's delayed
            # ACK of the content, which delays every message (bench/NOTES.md).
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            smtp.ehlo_or_helo_if_needed()
            if security == "starttls":
                smtp.starttls(context=tls_context(self._setting("ca_file")))
                smtp.ehlo()
            if self.credentials.get("username"):
                smtp.login(self.credentials["username"], self.credentials.get("password", ""))
            return smtp
        except AddressRefused as exc:
            raise refused_address(exc, provider=self.name) from None
        except smtplib.SMTPAuthenticationError as exc:
            _abandon(smtp)
            raise ProviderUnavailable(
                f"Login refused: {exc.smtp_code} {_reply_text(exc.smtp_error)}", provider=self.name,
                status=exc.smtp_code,
                advice=f"{host} refuses the username or password; update them in Provider accounts.",
            )
        except smtplib.SMTPNotSupportedError as exc:
            _abandon(smtp)
            raise ProviderUnavailable(
                f"{host} does not support {exc}", provider=self.name,
                advice="The server offers no STARTTLS or AUTH here: check the port and security setting.",
            )
        except ssl.SSLError as exc:
            _abandon(smtp)
            raise ProviderUnavailable(
                f"TLS with {host}:{port} failed: {exc}", provider=self.name,
                advice="Check the security setting (tls on 465, starttls on 587) and the server's certificate.",
            )
        except (OSError, smtplib.SMTPException) as exc:
            _abandon(smtp)
            raise ProviderUnavailable(
                f"Cannot reach {host}:{port}: {exc}", provider=self.name,
                status=getattr(exc, "smtp_code", None),
                advice=f"Check that the SMTP server at {host}:{port} is running and reachable.",
            )

    def open(self) -> SmtpSession:
        return SmtpSession(self, self.connect())

    def probe(self) -> ProbeResult:
        started = time.monotonic()
        smtp = self.connect()
        try:
            code, text = smtp.noop()
        except (OSError, smtplib.SMTPException) as exc:
            raise ProviderUnavailable(f"NOOP failed: {exc}", provider=self.name)
        finally:
            _quit(smtp)
        if code != 250:
            raise ProviderUnavailable(f"NOOP answered {code} {_reply_text(text)}", provider=self.name, status=code)
        return ProbeResult(ok=True, detail=f"{code} {_reply_text(text)}",
                           latency_ms=(time.monotonic() - started) * 1000)


def bracketed(address: str) -> str:
    """smtplib.quoteaddr(address): a bare address as it is, in angle brackets, without parsing it again
    (email.utils.parseaddr was about 3% of a sending worker's CPU, for two addresses a message)."""
    if address and not _ADDRESS_SPECIALS.intersection(address):
        return f"<{address}>"
    return smtplib.quoteaddr(address)


def _takes_8bit(smtp: smtplib.SMTP | None) -> bool:
    """The server offers 8BITMIME (RFC 6152): a part that is not 7-bit may go as it is, not encoded."""
    return smtp is not None and smtp.has_extn("8bitmime")


def _abandon(smtp: smtplib.SMTP | None) -> None:
    if smtp is not None:
        smtp.close()


def _quit(smtp: smtplib.SMTP) -> None:
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


class SmtpSession(EmailSession):
    """One SMTP connection sending message after message. Not thread-safe: one per worker."""

    def __init__(self, adapter: SmtpAdapter, smtp: smtplib.SMTP):
        self.adapter = adapter
        self.provider = adapter.name
        self._smtp: smtplib.SMTP | None = smtp

    def send(self, message: OutgoingEmail) -> SendReceipt:
        return run_steps(self.send_steps(message))

    def send_steps(self, message: OutgoingEmail) -> SendSteps[SendReceipt]:
        """send() in steps (gateways.send_steps), for a caller driving several sessions at once and
        recording each message as going out just before its end: WAITING after the pipelined MAIL, RCPT
        and DATA and after the final ".", BEFORE_END once the content is written without it. The receipt
        is the generator's return value; errors are those of send(). Closed before its end, the session
        drops its connection: the server discards a message that never ended."""
        try:
            # Built for the connection open now (the session's first one is opened with it): a message whose
            # connection is replaced before its envelope is built again if the new one takes no 8BITMIME.
            rendered = render_message(message, default_from=self.adapter.from_email,
                                      eight_bit=_takes_8bit(self._smtp))
        except ValueError as exc:
            raise ProviderRejected(f"Message cannot be sent: {exc}", provider=self.provider)
        sender = tagged(self.adapter.return_path, message.return_path_tag) or rendered.sender
        if not (sender.isascii() and rendered.recipient.isascii()):
            raise ProviderRejected(f"Address {rendered.recipient if sender.isascii() else sender!r} is not ASCII; "
                                   "internationalised addresses are not supported", provider=self.provider)
        smtp = self._connection()
        try:
            rendered = self._for_connection(smtp, message, rendered)
            pipelined = self._write_envelope(smtp, sender, rendered.recipient, rendered.eight_bit)
            if pipelined:
                yield Step.WAITING
            smtp = self._open_transaction(smtp, sender, rendered.recipient, rendered.message_id,
                                          eight_bit=rendered.eight_bit,
                                          replies=self._read_envelope_replies(smtp) if pipelined else None)
            # Replaced by a server that takes no 8BITMIME: its envelope went without BODY=8BITMIME.
            rendered = self._for_connection(smtp, message, rendered)
            self._write_content(smtp, rendered.data)
            yield Step.BEFORE_END
            self._write_end(smtp)
            yield Step.WAITING
        except GeneratorExit:
            self._drop()  # abandoned mid-transaction: out of step with the server, which drops an unended message
            raise
        code, text = self._read_answer(smtp, rendered.message_id)
        return SendReceipt(message_id=rendered.message_id, provider=self.provider, response=f"{code} {text}")

    def close(self) -> None:
        if self._smtp is not None:
            _quit(self._smtp)
            self._smtp = None

    # ---- one transaction --------------------------------------------------------------------

    def _for_connection(self, smtp: smtplib.SMTP, message: OutgoingEmail, rendered: RenderedMessage) -> RenderedMessage:
        """`rendered`, or built again without 8bit parts when `smtp` does not take them."""
        if rendered.eight_bit and not _takes_8bit(smtp):
            return render_message(message, default_from=self.adapter.from_email)
        return rendered

    def _connection(self) -> smtplib.SMTP:
        if self._smtp is None:
            self._smtp = self.adapter.connect()
        return self._smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None

    def _open_transaction(self, smtp: smtplib.SMTP, sender: str, recipient: str, message_id: str, *,
                          eight_bit: bool, replies: list[tuple[int, bytes]] | None) -> smtplib.SMTP:
        """MAIL FROM, RCPT TO and DATA, up to the server's 354 (`replies`: the answers to the pipelined
        commands already written, None to exchange them now). A connection the server closed while
        idle is replaced once: no message is in flight, so nothing can be sent twice."""
        if replies is None:
            replies = self._exchange(smtp, sender, recipient, eight_bit)
        if not replies or replies[0][0] == 421:
            self._drop()
            smtp = self._connection()
            replies = self._exchange(smtp, sender, recipient, eight_bit)
        for (stage, expected), (code, text) in zip(_STAGES, replies, strict=False):
            if code not in expected:
                if len(replies) == len(_STAGES) and replies[-1][0] == 354:
                    self._end_empty_data(smtp)
                raise self._refused(code, text, stage=stage, message_id=message_id)
        if len(replies) < len(_STAGES):
            self._drop()
            raise ProviderUnavailable("Connection lost before the message was sent", provider=self.provider)
        return smtp

    @staticmethod
    def _envelope(smtp: smtplib.SMTP, sender: str, recipient: str, eight_bit: bool) -> list[str]:
        """`eight_bit`: the message has 8bit parts, declared (RFC 6152) where the server takes them; where
        it does not, the message is built again without them before its content is written."""
        body = " BODY=8BITMIME" if eight_bit and _takes_8bit(smtp) else ""
        return [f"MAIL FROM:{bracketed(sender)}{body}\r\n", f"RCPT TO:{bracketed(recipient)}\r\n", "DATA\r\n"]

    def _write_envelope(self, smtp: smtplib.SMTP, sender: str, recipient: str, eight_bit: bool) -> bool:
        """With PIPELINING (RFC 2920) MAIL, RCPT and DATA go in one write, answered later: two round trips
        fewer per message, the largest cost of sending on a fast network. False without PIPELINING, or
        when the write failed (the exchange is then done, or found lost, one command at a time)."""
        if not smtp.has_extn("pipelining"):
            return False
        try:
            smtp.send("".join(self._envelope(smtp, sender, recipient, eight_bit)))
        except smtplib.SMTPServerDisconnected:
            return False
        return True

    @staticmethod
    def _read_envelope_replies(smtp: smtplib.SMTP) -> list[tuple[int, bytes]]:
        """The replies to the three pipelined commands; fewer when the connection was lost."""
        replies: list[tuple[int, bytes]] = []
        try:
            for _stage in _STAGES:
                replies.append(smtp.getreply())
        except smtplib.SMTPServerDisconnected:
            pass
        return replies

    def _exchange(self, smtp: smtplib.SMTP, sender: str, recipient: str, eight_bit: bool) -> list[tuple[int, bytes]]:
        """The replies to MAIL, RCPT and DATA, in order; fewer when the connection was lost or, one by
        one, when a command was refused."""
        if self._write_envelope(smtp, sender, recipient, eight_bit):
            return self._read_envelope_replies(smtp)
        replies: list[tuple[int, bytes]] = []
        try:
            for command, (_stage, expected) in zip(self._envelope(smtp, sender, recipient, eight_bit), _STAGES,
                                                   strict=True):
                smtp.send(command)
                replies.append(smtp.getreply())
                if replies[-1][0] not in expected:
                    break
        except smtplib.SMTPServerDisconnected:
            pass
        return replies

    def _end_empty_data(self, smtp: smtplib.SMTP) -> None:
        """A server that answers 354 to a pipelined DATA after refusing the recipient expects a
        message anyway (RFC 2920 §3.1): end it at once, with no recipient it goes nowhere."""
        try:
            smtp.send(".\r\n")
            smtp.getreply()
        except smtplib.SMTPServerDisconnected:
            self._drop()

    def _write_content(self, smtp: smtplib.SMTP, payload: bytes) -> None:
        # Dot-stuffing (RFC 5321 §4.5.2); bytes.replace is several times faster than smtplib's regex.
        quoted = (b"." if payload.startswith(b".") else b"") + payload.replace(b"\r\n.", b"\r\n..")
        if not quoted.endswith(b"\r\n"):
            quoted += b"\r\n"
        self._write_data(smtp, quoted)

    def _write_end(self, smtp: smtplib.SMTP) -> None:
        self._write_data(smtp, b".\r\n")

    def _write_data(self, smtp: smtplib.SMTP, data: bytes) -> None:
        try:
            smtp.send(data)
        except smtplib.SMTPServerDisconnected as exc:
            # The final "." never left whole: the server cannot have accepted a message without its end.
            self._drop()
            raise ProviderUnavailable(f"Connection lost while sending the message: {exc}", provider=self.provider)

    def _read_answer(self, smtp: smtplib.SMTP, message_id: str) -> tuple[int, str]:
        try:
            code, text = smtp.getreply()
        except smtplib.SMTPServerDisconnected as exc:
            self._drop()
            raise OutcomeUnknown(
                f"Connection lost after the message was sent, before the server answered: {exc}",
                provider=self.provider, details={"message_id": message_id},
            )
        if code != 250:
            raise self._refused(code, text, stage="message", message_id=message_id)
        return code, _reply_text(text)

    def _refused(self, code: int, text: bytes | str, *, stage: str, message_id: str):
        """The error for a refusal, after making the connection ready for the next message."""
        reply = f"{code} {_reply_text(text)}"
        if code == 421 or not 400 <= code < 600:
            self._drop()  # 421: the server is closing this connection; anything else: we are out of step
        elif stage != "message":
            self._reset()
        details = {"reply": reply, "stage": stage, "message_id": message_id,
                   # True: only this message was refused, the next one can go over the same session.
                   "session_usable": self._smtp is not None and code not in _AUTH_CODES}
        if code in _AUTH_CODES:
            return ProviderUnavailable(f"Server wants authentication: {reply}", provider=self.provider,
                                       status=code, details=details,
                                       advice="Set the SMTP username and password in Provider accounts.")
        if code == 421:
            return RateLimited(f"Server asks to slow down ({stage}): {reply}", provider=self.provider, status=code,
                               retry_after=smtp_retry_after_seconds(), details=details)
        if 400 <= code < 500:
            return ProviderUnavailable(f"Temporarily refused ({stage}): {reply}", provider=self.provider,
                                       status=code, details=details)
        if 500 <= code < 600:
            return ProviderRejected(f"Refused ({stage}): {reply}", provider=self.provider, status=code,
                                    details=details)
        return ProviderUnavailable(f"Unexpected answer ({stage}): {reply}", provider=self.provider, status=code,
                                   details=details)

    def _reset(self) -> None:
        if self._smtp is None:
            return
        try:
            code, _text = self._smtp.rset()
        except (OSError, smtplib.SMTPException):
            code = 0
        if code != 250:
            self._drop()
