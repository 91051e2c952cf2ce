"""What every HTTP adapter shares: its lazily opened client, credentials checks and probe timing."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import cached_property
from typing import ClassVar

import requests

from gateways.capabilities import ProbeResult
from gateways.errors import GatewayError, ProviderUnavailable
from gateways.http import ProviderHttp

# A probe result for providers with no call that proves access without doing something real.
NOT_PROBED = "not probed"


def truthy(value) -> bool:
    """Account settings arrive as JSON values or as text typed in the admin."""
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


class HttpAdapterMixin:
    """Mixed into an Adapter subclass (which provides name, label, base_url, timeout, credentials)."""

    # Seconds between two requests of one call (a batch split into several requests).
    min_interval: ClassVar[float] = 0.0
    credentials_advice: ClassVar[str] = ""

    def http_headers(self) -> dict[str, str]:
        return {}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        """Classify a vendor-specific failure; None leaves it to the generic mapping."""
        return None

    @cached_property
    def http(self) -> ProviderHttp:
        return ProviderHttp(
            provider=self.name, label=self.label, timeout=self.timeout,
            secrets=[str(v) for v in self.credentials.values() if v],
            headers=self.http_headers(), credentials_advice=self.credentials_advice,
            error_hook=self.http_error, min_interval=self.min_interval,
        )

    def publish_endpoint(self, post) -> str | None:
        """The URL a post goes to, when it is known before posting (see prepare_publish)."""
        return None

    def prepare_publish(self, post) -> None:
        """Open the post's connection before the caller marks it as possibly sent: a channel with no
        idempotency key and no look-up (Slack, Discord) then leaves only the instant between that
        mark and the request's write in doubt, not the connection's set-up. Channels that drop a
        repeated key or can be asked have nothing to gain and skip the extra pool round."""
        endpoint = self.publish_endpoint(post)
        if endpoint:
            self.http.open_connection(endpoint)

    def url(self, path: str) -> str:
        if not self.base_url:
            raise ProviderUnavailable(f"{self.label}: no base URL set", provider=self.name,
                                      advice=f"Set the {self.label} address in Provider accounts.")
        return f"{self.base_url}{path}"

    def credential(self, name: str) -> str:
        return self._required(self.credentials, name)

    def setting(self, name: str) -> str:
        return self._required(self.settings, name)

    def _required(self, values: dict, name: str) -> str:
        value = str(values.get(name) or "").strip()
        if not value:
            raise ProviderUnavailable(f"{self.label}: {name} is not set", provider=self.name,
                                      advice=f"Enter the {name.replace('_', ' ')} in Provider accounts.")
        return value

    def timed_probe(self, call: Callable[[], str]) -> ProbeResult:
        started = time.monotonic()
        detail = call()
        return ProbeResult(ok=True, detail=detail, latency_ms=round((time.monotonic() - started) * 1000, 1))


def json_object(response: requests.Response) -> dict:
    """The answer's JSON object, or {} when the body is not one."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def not_probed(reason: str) -> ProbeResult:
    return ProbeResult(ok=True, detail=f"{NOT_PROBED}: {reason}", latency_ms=0.0)
