"""The one HTTP client every adapter uses (no `requests.` calls anywhere else).

- One `requests.Session` per adapter instance, environment proxies and .netrc ignored.
- Connect and read timeouts always set; redirects not followed unless an adapter asks.
- Failures become gateway errors (see `ProviderHttp.request`), with the provider's account name, the
  HTTP status and advice; credentials never reach a message, a log record or a chained traceback.
- Server-side request forgery guard (gateways.net, shared with every other protocol): each connection
  resolves the host once, refuses any internal address and connects to the address it checked; TLS
  still verifies the name. Redirects go through the same connections, so a redirect to an internal
  address is refused too.
"""

from __future__ import annotations

import email.utils
import logging
import socket
import sys
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from gateways.errors import GatewayError, OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.net import AddressRefused, guarded_connection

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT_CAP = 10.0
USER_AGENT = "AICMO/0.1 (+https://github.com/aicmo)"
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class _GuardedConnectionMixin:
    def _new_conn(self) -> socket.socket:
        try:
            sock = guarded_connection(self._dns_host, self.port, timeout=self.timeout,
                                      source_address=self.source_address,
                                      socket_options=tuple(self.socket_options or ()))
        except socket.gaierror as exc:
            raise NameResolutionError(self.host, self, exc) from exc
        except TimeoutError as exc:
            raise ConnectTimeoutError(self, f"Connection to {self.host} timed out.") from exc
        except OSError as exc:
            raise NewConnectionError(self, f"Failed to establish a new connection: {exc}") from exc
        sys.audit("http.client.connect", self, self.host, self.port)
        return sock


class GuardedHTTPConnection(_GuardedConnectionMixin, HTTPConnection):
    pass


class GuardedHTTPSConnection(_GuardedConnectionMixin, HTTPSConnection):
    pass


class GuardedHTTPConnectionPool(HTTPConnectionPool):
    ConnectionCls = GuardedHTTPConnection


class GuardedHTTPSConnectionPool(HTTPSConnectionPool):
    ConnectionCls = GuardedHTTPSConnection


class GuardedHTTPAdapter(HTTPAdapter):
    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": GuardedHTTPConnectionPool,
                                                   "https": GuardedHTTPSConnectionPool}


class _HideUrlPaths(logging.Filter):
    """urllib3 logs request paths at DEBUG, and a webhook URL's path is its secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple("<path hidden>" if isinstance(arg, str) and arg.startswith("/") else arg
                                for arg in record.args)
        return True


logging.getLogger("urllib3.connectionpool").addFilter(_HideUrlPaths())


def retry_after_seconds(response: requests.Response, *, now: float | None = None,
                        rate_limit_headers: bool = True) -> float | None:
    """When to come back, from Retry-After (seconds or HTTP date) or, for a rate limit, the vendors'
    reset headers (sent with every answer by some, so they say nothing about a server error)."""
    now = time.time() if now is None else now
    headers = response.headers
    value = headers.get("Retry-After") or (headers.get("X-RateLimit-Reset-After") if rate_limit_headers else None)
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            parsed = email.utils.parsedate_tz(value)
            if parsed:
                return max(0.0, email.utils.mktime_tz(parsed) - now)
    if not rate_limit_headers:
        return None
    reset = headers.get("x-rate-limit-reset") or headers.get("X-RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset) - now)  # X: epoch seconds
        except ValueError:
            try:
                return max(0.0, datetime.fromisoformat(reset.replace("Z", "+00:00")).timestamp() - now)  # Mastodon
            except ValueError:
                return None
    try:
        body = response.json()
    except ValueError:
        return None
    if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
        return max(0.0, float(body["retry_after"]))  # Discord
    return None


def provider_message(response: requests.Response) -> str:
    """The provider's own words about a failure, from the usual JSON shapes or the plain-text body."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300]
    if isinstance(body, dict):
        for key in ("message", "error", "detail", "reason", "title", "errors"):
            value = body.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("type")
            if isinstance(value, str) and value.strip():
                return value.strip()[:300]
    return str(body)[:300]


ErrorHook = Callable[[requests.Response], GatewayError | None]


class _ProviderSession(requests.Session):
    """requests drops only Authorization when a redirect leaves the host; vendors' own key headers
    (x-api-key, api-key, X-Access-Token) would follow. Any header carrying a secret is dropped too."""

    secrets: list[str] = []

    def rebuild_auth(self, prepared_request, response):
        super().rebuild_auth(prepared_request, response)
        if self.should_strip_auth(response.request.url, prepared_request.url):
            for name, value in list(prepared_request.headers.items()):
                if any(secret in str(value) for secret in self.secrets):
                    del prepared_request.headers[name]


class ProviderHttp:
    """HTTP calls for one provider account.

    provider: the account name (goes on every error). label: the vendor's name for messages.
    secrets: values that must never appear in an error message (API keys, secret webhook URLs).
    error_hook: lets an adapter classify a vendor-specific failure before the generic mapping.
    min_interval: seconds between two requests of this client (pacing inside one batch call).
    """

    def __init__(self, *, provider: str, label: str, timeout: float, secrets: Iterable[str] = (),
                 headers: dict[str, str] | None = None, credentials_advice: str = "",
                 error_hook: ErrorHook | None = None, min_interval: float = 0.0):
        self.provider = provider
        self.label = label
        self.timeout = (min(timeout, CONNECT_TIMEOUT_CAP), timeout)
        self.secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        # "{status}" is filled in with the answer's status code.
        self.credentials_advice = credentials_advice or (
            f"{label} answers {{status}}: the credentials are wrong, revoked or lack access; "
            "update them in Provider accounts."
        )
        self.error_hook = error_hook
        self.min_interval = min_interval
        self._last_request_at: float | None = None
        self.session = _ProviderSession()
        self.session.secrets = self.secrets
        self.session.trust_env = False
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})})
        guarded = GuardedHTTPAdapter(max_retries=0)
        self.session.mount("http://", guarded)
        self.session.mount("https://", guarded)

    def close(self) -> None:
        self.session.close()

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return text

    def error(self, cls: type[GatewayError], message: str, **kwargs) -> GatewayError:
        kwargs.setdefault("provider", self.provider)
        return cls(self.redact(message), **{k: (self.redact(v) if isinstance(v, str) else v)
                                            for k, v in kwargs.items()})

    def _pace(self) -> None:
        if self.min_interval and self._last_request_at is not None:
            wait = self._last_request_at + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
        self._last_request_at = time.monotonic()

    def open_connection(self, url: str) -> None:
        """Open the connection (TCP, and TLS for https) the next request to `url` will take from the
        pool, so that request's bytes leave as soon as it is made. A caller that commits "this may be
        sent now" right before a request opens the connection first: a failure to connect then comes
        before that commit, and only the instant between the commit and the write remains uncertain.
        Raises ProviderUnavailable when the connection cannot be made (nothing was sent)."""
        host = urlsplit(url).hostname or "?"
        if urlsplit(url).scheme not in ("http", "https"):
            return  # request() says why, before anything is sent
        prepared = requests.Request("GET", url).prepare()
        pool = self.session.get_adapter(url).get_connection_with_tls_context(prepared, self.session.verify)
        conn = pool._get_conn(timeout=self.timeout[0])  # noqa: SLF001 - urllib3 has no public way to warm its pool
        try:
            if conn.is_closed:
                conn.timeout = self.timeout[0]
                conn.connect()
        except AddressRefused as exc:
            conn.close()
            raise self.error(ProviderUnavailable, f"{self.label}: refused to call {exc}",
                             advice="The URL points at an internal address; use the provider's public URL "
                                    "in Provider accounts.") from None
        except Exception as exc:  # noqa: BLE001 - any failure to connect: nothing was sent
            conn.close()
            raise self.error(ProviderUnavailable, f"{self.label}: could not connect to {host} "
                             f"({type(exc).__name__})", advice=f"{self.label} is unreachable; it will be tried "
                             "again.") from None
        finally:
            pool._put_conn(conn)  # noqa: SLF001

    def request(self, method: str, url: str, *, idempotent: bool | None = None,
                follow_redirects: bool = False, accept: Iterable[int] = (), **kwargs) -> requests.Response:
        """Send one request; return the 2xx response or raise a gateway error.

        idempotent: whether sending it twice is harmless (defaults to True for GET/HEAD/OPTIONS).
        accept: other statuses returned as answers (304 to a conditional request).
        A read timeout on a non-idempotent request raises OutcomeUnknown: it may have taken effect.
        """
        method = method.upper()
        idempotent = method in IDEMPOTENT_METHODS if idempotent is None else idempotent
        host = urlsplit(url).hostname or "?"
        if urlsplit(url).scheme not in ("http", "https"):
            raise self.error(ProviderUnavailable, f"{self.label}: only http and https URLs can be called",
                             advice="Fix the URL in Provider accounts.")
        self._pace()
        started = time.monotonic()
        try:
            response = self.session.request(method, url, timeout=self.timeout,
                                            allow_redirects=follow_redirects, **kwargs)
        except AddressRefused as exc:
            raise self.error(ProviderUnavailable, f"{self.label}: refused to call {exc}",
                             advice="The URL points at an internal address; use the provider's public URL "
                                    "in Provider accounts.") from None
        except requests.ConnectTimeout:
            raise self.error(ProviderUnavailable, f"{self.label}: connecting to {host} timed out",
                             advice=f"{self.label} is unreachable; it will be tried again.") from None
        except requests.ReadTimeout:
            if idempotent:
                raise self.error(ProviderUnavailable, f"{self.label}: no answer from {host} in time",
                                 advice=f"{self.label} is slow; it will be tried again.") from None
            raise self.error(OutcomeUnknown, f"{self.label}: no answer from {host} in time; the request may "
                             "have been received", advice="Check with the provider before sending again.") from None
        except requests.exceptions.SSLError:
            raise self.error(ProviderUnavailable, f"{self.label}: the TLS certificate of {host} could not be verified",
                             advice=f"Check the {self.label} address in Provider accounts.") from None
        except requests.ConnectionError as exc:
            if idempotent or _never_sent(exc):
                raise self.error(ProviderUnavailable, f"{self.label}: could not connect to {host}",
                                 advice=f"{self.label} is unreachable; it will be tried again.") from None
            raise self.error(OutcomeUnknown, f"{self.label}: the connection to {host} broke before an answer; "
                             "the request may have been received",
                             advice="Check with the provider before sending again.") from None
        except requests.RequestException as exc:
            raise self.error(ProviderUnavailable, f"{self.label}: request failed ({type(exc).__name__})") from None
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug("%s %s %s -> %s in %.0f ms", self.provider, method, host, response.status_code, elapsed_ms)
        if response.status_code < 300 or response.status_code in accept:
            return response
        raise self.failure(response)

    def request_json(self, method: str, url: str, *, expect: type = dict, **kwargs):
        """`request`, then the answer's JSON, which must be an object (or `expect`). A 2xx answer we cannot
        read after a write means it probably worked: the outcome is unknown, not a failure to retry."""
        response = self.request(method, url, **kwargs)
        try:
            body = response.json()
        except ValueError:
            body = None
        if isinstance(body, expect):
            return body
        idempotent = kwargs.get("idempotent")
        idempotent = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        message = f"{self.label} answered {response.status_code} with something other than the documented JSON"
        if idempotent:
            raise self.error(ProviderUnavailable, message, status=response.status_code,
                             advice=f"Check the {self.label} address in Provider accounts.")
        raise self.error(OutcomeUnknown, message, status=response.status_code,
                         advice="Check with the provider before sending again.")

    def failure(self, response: requests.Response) -> GatewayError:
        if self.error_hook is not None:
            error = self.error_hook(response)
            if error is not None:
                return self.error(type(error), error.message, status=error.status or response.status_code,
                                  retry_after=error.retry_after, advice=error.advice, details=error.details)
        status = response.status_code
        said = provider_message(response)
        message = f"{self.label} answered {status}: {said}" if said else f"{self.label} answered {status}"
        if status == 429:
            retry_after = retry_after_seconds(response)
            wait = f" for {retry_after:.0f} s" if retry_after is not None else ""
            return self.error(RateLimited, message, status=status, retry_after=retry_after,
                              advice=f"{self.label} asks us to slow down{wait}; lower this account's rate limit "
                                     "if it keeps happening.")
        if status in (401, 403):
            return self.error(ProviderUnavailable, message, status=status,
                              advice=self.credentials_advice.format(status=status))
        if status >= 500:
            return self.error(ProviderUnavailable, message, status=status,
                              retry_after=retry_after_seconds(response, rate_limit_headers=False),
                              advice=f"{self.label} has a problem on its side; it will be tried again.")
        if status < 400:
            location = urlsplit(response.headers.get("Location", "")).hostname or "elsewhere"
            return self.error(ProviderUnavailable, f"{self.label} answered {status}, a redirect to {location}",
                              status=status, advice="Redirects are not followed; put the final URL in "
                                                    "Provider accounts.")
        return self.error(ProviderRejected, message, status=status,
                          advice=f"{self.label} refused the request itself; correct the data and try again.")


def _never_sent(exc: requests.ConnectionError) -> bool:
    """A connection that was never made cannot have delivered anything."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    return isinstance(reason, NewConnectionError | NameResolutionError | ConnectTimeoutError)
