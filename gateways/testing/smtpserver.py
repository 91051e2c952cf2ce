"""A real SMTP server on loopback (aiosmtpd) that keeps the exact bytes and envelope of every
message it accepts, and can misbehave on request: refuse a recipient, answer 4xx to some messages,
or drop the connection after the message was sent but before answering (the unknown window)."""

from __future__ import annotations

import asyncio
import ssl
import threading
from dataclasses import dataclass, field
from email import message_from_bytes
from email import policy as email_policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from gateways.testing.ports import free_port


@dataclass
class ReceivedMail:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes  # exactly what arrived between DATA and the final "." (dot-unstuffed)
    connection: int  # 1 for the first connection that said EHLO/HELO, 2 for the next ...
    mail_options: list[str] = field(default_factory=list)  # MAIL FROM's parameters, e.g. ["BODY=8BITMIME"]

    def message(self) -> EmailMessage:
        return message_from_bytes(self.data, policy=email_policy.default)


@dataclass
class SmtpTestServer:
    """Options can be changed while it runs; they apply to the next command."""

    host: str = "127.0.0.1"
    port: int = 0
    pipelining: bool = True  # offer PIPELINING (RFC 2920), as Postfix and most relays do
    eight_bit_mime: bool = True  # offer 8BITMIME (RFC 6152), as aiosmtpd, Postfix and most relays do
    # sender address -> reply to MAIL FROM, e.g. {"news@example.com": "553 5.7.1 Sender not allowed"}
    refuse_senders: dict[str, str] = field(default_factory=dict)
    # recipient address -> reply to RCPT TO, e.g. {"gone@example.org": "550 5.1.1 No such user"}
    refuse_recipients: dict[str, str] = field(default_factory=dict)
    # answer `temporary_reply` instead of accepting every n-th message (counted over all DATA)
    temporary_failure_every: int = 0
    temporary_reply: str = "454 4.7.0 Temporary failure, try again later"
    # recipient address -> reply to the end of its message instead of accepting it ("554 5.7.1 Spam")
    data_replies: dict[str, str] = field(default_factory=dict)
    # recipients whose message is accepted but whose connection is cut before the reply is sent
    drop_after_data_for: set[str] = field(default_factory=set)
    accept_reply: str = "250 2.0.0 Ok: queued"
    # True: every message's DATA waits (the sender blocked mid-message, as behind a stalled provider)
    # until set back to False; `held` counts the messages waiting.
    hold: bool = False
    held: int = 0
    # Hold, as `hold` does, every message once this many were received (0: never); set back to 0 to let
    # them go. A test acts at a known point mid-send however slowly it runs.
    hold_from: int = 0
    # Seconds every message's DATA waits before its answer, as a slow provider's does.
    data_delay: float = 0.0
    credentials: tuple[str, str] | None = None  # require AUTH with this username and password
    tls_context: ssl.SSLContext | None = None
    implicit_tls: bool = False  # TLS from the first byte (port 465 style) instead of STARTTLS

    messages: list[ReceivedMail] = field(default_factory=list)
    connections: int = 0
    data_commands: int = 0
    logins: list[str] = field(default_factory=list)
    greetings: list[str] = field(default_factory=list)  # the name each EHLO/HELO gave
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _protocols: list = field(default_factory=list)
    _controller: Controller | None = None

    # ---- aiosmtpd handler hooks -------------------------------------------------------------

    def _count_connection(self, server, session) -> int:
        with self._lock:
            if not getattr(session, "aicmo_connection", 0):
                self.connections += 1
                session.aicmo_connection = self.connections
                self._protocols.append(server)
            return session.aicmo_connection

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        self._count_connection(server, session)
        self.greetings.append(hostname)
        session.host_name = hostname  # aiosmtpd leaves this to a handler that hooks EHLO/HELO
        if self.pipelining:
            # aiosmtpd reads commands one line at a time from a stream, so pipelined ones just work.
            responses.insert(len(responses) - 1, "250-PIPELINING")
        if not self.eight_bit_mime:
            responses = [line for line in responses if line != "250-8BITMIME"]
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        self._count_connection(server, session)
        self.greetings.append(hostname)
        session.host_name = hostname  # aiosmtpd leaves this to a handler that hooks EHLO/HELO
        return f"250 {server.hostname}"

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        refusal = self.refuse_senders.get(address.lower())
        if refusal:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 Ok"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        refusal = self.refuse_recipients.get(address.lower())
        if refusal:
            return refusal
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 Ok"

    async def handle_DATA(self, server, session, envelope):
        if self._holding():
            with self._lock:
                self.held += 1
            while self._holding():
                await asyncio.sleep(0.05)
            with self._lock:
                self.held -= 1
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self._lock:
            self.data_commands += 1
            count = self.data_commands
        if self.temporary_failure_every and count % self.temporary_failure_every == 0:
            return self.temporary_reply
        chosen = next((self.data_replies[a.lower()] for a in envelope.rcpt_tos if a.lower() in self.data_replies), "")
        if chosen:
            return chosen
        received = ReceivedMail(mail_from=envelope.mail_from, rcpt_tos=list(envelope.rcpt_tos),
                                data=envelope.original_content, connection=self._count_connection(server, session),
                                mail_options=list(envelope.mail_options))
        with self._lock:
            self.messages.append(received)
        if {address.lower() for address in envelope.rcpt_tos} & self.drop_after_data_for:
            server.transport.abort()  # accepted and stored, but the client never hears so
        return self.accept_reply

    def _holding(self) -> bool:
        return self.hold or bool(self.hold_from and len(self.messages) >= self.hold_from)

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        if not isinstance(auth_data, LoginPassword) or self.credentials is None:
            return AuthResult(success=False, handled=False)
        ok = (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok, handled=False)

    # ---- life cycle -------------------------------------------------------------------------

    def start(self) -> SmtpTestServer:
        if self.port:
            return self._start()
        for _attempt in range(2):
            self.port = free_port(self.host)
            try:
                return self._start()
            except OSError:
                pass  # another process took the port between free_port() and the bind: try another one
        self.port = free_port(self.host)
        return self._start()

    def _start(self) -> SmtpTestServer:
        kwargs: dict = {}
        if self.tls_context is not None and self.implicit_tls:
            kwargs["ssl_context"] = self.tls_context
        elif self.tls_context is not None:
            kwargs.update(tls_context=self.tls_context, require_starttls=True)
        if self.credentials is not None:
            kwargs.update(authenticator=self._authenticate, auth_require_tls=self.tls_context is not None)
        self._controller = Controller(self, hostname=self.host, port=self.port, server_hostname="mx.test",
                                      ready_timeout=10, **kwargs)
        self._controller.start()
        return self

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def disconnect_all(self) -> None:
        """Close every open connection from the server's side, as a server does with idle clients."""

        async def close():
            for protocol in self._protocols:
                if protocol.transport is not None:
                    protocol.transport.close()

        asyncio.run_coroutine_threadsafe(close(), self._controller.loop).result(timeout=10)

    def recipients(self) -> list[str]:
        with self._lock:
            return [address for mail in self.messages for address in mail.rcpt_tos]

    def adapter_settings(self, **extra) -> dict:
        """ProviderAccount settings of an "smtp" account that sends through this server."""
        security = "none" if self.tls_context is None else ("tls" if self.implicit_tls else "starttls")
        return {"host": self.host, "port": self.port, "security": security, **extra}
