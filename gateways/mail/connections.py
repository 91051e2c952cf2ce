"""SMTP and IMAP clients whose sockets come from the address guard (gateways.net): the standard
library's clients, with only the line that opens the TCP connection replaced. STARTTLS and implicit
TLS wrap the guarded socket and verify the host name the account gave."""

from __future__ import annotations

import imaplib
import smtplib
import sys

from gateways.errors import ProviderUnavailable
from gateways.net import AddressRefused, guarded_connection


def refused_address(exc: AddressRefused, *, provider: str) -> ProviderUnavailable:
    return ProviderUnavailable(f"Refused to connect: {exc}", provider=provider,
                               advice="The host points at an internal address; use the mail server's public "
                                      "name in Provider accounts.")


class GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host, port, timeout):
        if timeout is not None and not timeout:
            raise ValueError("Non-blocking socket (timeout=0) is not supported")
        return guarded_connection(host, port, timeout=timeout, source_address=self.source_address)


class GuardedSMTPSSL(smtplib.SMTP_SSL, GuardedSMTP):
    """SMTP_SSL._get_socket wraps what super() returns: GuardedSMTP's socket, by this order."""


class GuardedIMAP4(imaplib.IMAP4):
    def _create_socket(self, timeout):
        sys.audit("imaplib.open", self, self.host, self.port)
        return guarded_connection(self.host, self.port, timeout=timeout)


class GuardedIMAP4SSL(imaplib.IMAP4_SSL, GuardedIMAP4):
    """IMAP4_SSL._create_socket calls IMAP4._create_socket by name, so it is repeated here."""

    def _create_socket(self, timeout):
        return self.ssl_context.wrap_socket(GuardedIMAP4._create_socket(self, timeout), server_hostname=self.host)
