"""Reading a mailbox over IMAP (key "imap"): bounces and replies to what we sent.

fetch_since() opens the mailbox read-only and fetches with BODY.PEEK[], so reading changes nothing
a person sees (no \\Seen flag); only the first GATEWAYS_IMAP_MAX_MESSAGE_BYTES of each message are
read. UIDs are only stable while the mailbox's UIDVALIDITY stays the same; every message carries it,
and a caller that passes the UIDVALIDITY it stored gets the whole mailbox again when the server's
differs (its stored last UID no longer means anything).
"""

from __future__ import annotations

import imaplib
import re
import time
from datetime import datetime

from gateways.capabilities import InboundMessage, InboxReadingAdapter, ProbeResult, register
from gateways.errors import ProviderUnavailable
from gateways.mail.conf import imap_max_message_bytes
from gateways.mail.connections import GuardedIMAP4, GuardedIMAP4SSL, refused_address
from gateways.mail.inbound import OTHER, parse_inbound
from gateways.mail.tls import tls_context
from gateways.net import AddressRefused

SECURITY_MODES = ("tls", "starttls", "none")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "none": 143}
FETCH_CHUNK = 100  # UIDs per FETCH command: keeps each command line and response bounded
_UID = re.compile(rb"\bUID (\d+)")
_INTERNALDATE = re.compile(rb'INTERNALDATE "([^"]+)"')


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _internal_date(meta: bytes) -> datetime | None:
    found = _INTERNALDATE.search(meta)
    if not found:
        return None
    try:
        return datetime.strptime(found.group(1).decode().strip(), "%d-%b-%Y %H:%M:%S %z")
    except ValueError:
        return None


@register
class ImapAdapter(InboxReadingAdapter):
    key = "imap"
    label = "IMAP mailbox"
    parameters = ("host", "port", "security", "mailbox", "ca_file")
    secret_parameters = ("username", "password")

    def _setting(self, name: str) -> str:
        return str(self.settings.get(name) or "").strip()

    @property
    def mailbox(self) -> str:
        return self._setting("mailbox") or "INBOX"

    def _address(self) -> tuple[str, int, str]:
        host = self._setting("host")
        security = (self._setting("security") or "tls").lower()
        if not host:
            raise ProviderUnavailable("No IMAP host configured", provider=self.name,
                                      advice="Set the IMAP host in Provider accounts.")
        if security not in SECURITY_MODES:
            raise ProviderUnavailable(f"Unknown security {security!r}", provider=self.name,
                                      advice=f"Set security to one of {', '.join(SECURITY_MODES)}.")
        try:
            port = int(self._setting("port") or DEFAULT_PORTS[security])
        except ValueError:
            raise ProviderUnavailable(f"IMAP port {self._setting('port')!r} is not a number", provider=self.name,
                                      advice="Set the IMAP port (993 or 143) in Provider accounts.")
        return host, port, security

    def connect(self) -> imaplib.IMAP4:
        """Logged in and with the mailbox selected read-only."""
        host, port, security = self._address()
        client: imaplib.IMAP4 | None = None
        try:
            if security == "tls":
                client = GuardedIMAP4SSL(host, port, ssl_context=tls_context(self._setting("ca_file")),
                                           timeout=self.timeout)
            else:
                client = GuardedIMAP4(host, port, timeout=self.timeout)
                if security == "starttls":
                    client.starttls(ssl_context=tls_context(self._setting("ca_file")))
        except AddressRefused as exc:
            raise refused_address(exc, provider=self.name) from None
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderUnavailable(f"Cannot reach {host}:{port}: {exc}", provider=self.name,
                                      advice=f"Check that the IMAP server at {host}:{port} is reachable and "
                                             "the security setting (tls on 993, starttls on 143).")
        try:
            client.login(self.credentials.get("username", ""), self.credentials.get("password", ""))
        except imaplib.IMAP4.error as exc:
            _logout(client)
            raise ProviderUnavailable(f"Login refused: {exc}", provider=self.name,
                                      advice=f"{host} refuses the username or password; update them in "
                                             "Provider accounts.")
        except OSError as exc:
            _logout(client)
            raise ProviderUnavailable(f"Connection lost at login: {exc}", provider=self.name)
        return client

    def _select(self, client: imaplib.IMAP4) -> tuple[int, int]:
        """(UIDVALIDITY, number of messages) of the configured mailbox, opened read-only."""
        status, data = client.select(_quoted(self.mailbox), readonly=True)
        if status != "OK":
            raise ProviderUnavailable(f"Mailbox {self.mailbox!r} cannot be opened: {data}", provider=self.name,
                                      advice=f"Check that the mailbox {self.mailbox!r} exists for this user.")
        _name, validity = client.response("UIDVALIDITY")
        return int(validity[0]), int(data[0])

    def probe(self) -> ProbeResult:
        started = time.monotonic()
        client = self.connect()
        try:
            validity, count = self._select(client)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderUnavailable(f"SELECT failed: {exc}", provider=self.name)
        finally:
            _logout(client)
        return ProbeResult(ok=True, detail=f"{self.mailbox}: {count} messages (UIDVALIDITY {validity})",
                           latency_ms=(time.monotonic() - started) * 1000)

    def fetch_since(self, last_uid: int, *, limit: int = 500, uid_validity: int | None = None
                    ) -> list[InboundMessage]:
        """Messages with a UID above last_uid, oldest first, at most `limit`. When `uid_validity`
        (the one stored with last_uid) differs from the mailbox's, all messages are new again."""
        client = self.connect()
        try:
            validity, _count = self._select(client)
            if uid_validity is not None and uid_validity != validity:
                last_uid = 0
            # "n:*" always matches the highest UID, even below n: filter instead of trusting it.
            status, data = client.uid("SEARCH", f"UID {last_uid + 1}:*")
            if status != "OK":
                raise ProviderUnavailable(f"UID SEARCH failed: {data}", provider=self.name)
            uids = sorted(uid for uid in (int(item) for item in b" ".join(data).split()) if uid > last_uid)
            found: list[InboundMessage] = []
            for start in range(0, min(len(uids), limit), FETCH_CHUNK):
                chunk = uids[start:min(start + FETCH_CHUNK, limit)]
                found.extend(self._fetch(client, chunk, validity))
            return sorted(found, key=lambda message: message.uid)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise ProviderUnavailable(f"Reading {self.mailbox!r} failed: {exc}", provider=self.name)
        finally:
            _logout(client)

    def _fetch(self, client: imaplib.IMAP4, uids: list[int], validity: int) -> list[InboundMessage]:
        status, data = client.uid("FETCH", ",".join(str(uid) for uid in uids),
                                  f"(UID INTERNALDATE BODY.PEEK[]<0.{imap_max_message_bytes()}>)")
        if status != "OK":
            raise ProviderUnavailable(f"UID FETCH failed: {data}", provider=self.name)
        messages = []
        for item in data:
            if not isinstance(item, tuple):
                continue  # the closing ")" of each FETCH response
            meta, raw = item
            uid_match = _UID.search(meta)
            if not uid_match:
                continue
            messages.append(_parse(raw, uid=int(uid_match.group(1)), uid_validity=validity,
                                   received_at=_internal_date(meta)))
        return messages


def _parse(raw: bytes, *, uid: int, uid_validity: int, received_at: datetime | None) -> InboundMessage:
    try:
        return parse_inbound(raw, uid=uid, uid_validity=uid_validity, received_at=received_at)
    except Exception as exc:  # one unreadable message must not stop the messages after it
        return InboundMessage(uid=uid, uid_validity=uid_validity, kind=OTHER, message_id="",
                              received_at=received_at, text=f"Unreadable message: {exc}")


def _logout(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (OSError, imaplib.IMAP4.error):
        pass
