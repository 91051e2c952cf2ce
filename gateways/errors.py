"""The few ways a provider call can fail. Adapters turn every vendor error into one of these,
so the chain decides failover from the type alone.

- ProviderUnavailable: the provider could not do it now (timeout before sending, connection
  refused, 5xx, bad credentials): the chain moves on to the next provider.
- RateLimited: a ProviderUnavailable that says when to come back (`retry_after` seconds).
- ProviderRejected: the provider understood and refused the input itself (4xx about the
  request): no failover, the caller gets a clear error about its data.
- OutcomeUnknown: the request may have taken effect (read timeout after a post was sent, SMTP
  connection lost after DATA): never retried elsewhere, the caller must reconcile.
- CallRefused: a ProviderUnavailable raised before any request (the account's circuit breaker is
  open): nothing was sent, so it is no attempt and says when to come back (`retry_after`).
- NoProviderAvailable: every provider of the capability failed or was skipped.
"""


class GatewayError(Exception):
    def __init__(
        self,
        message: str,
        *,
        provider: str = "",
        status: int | None = None,
        retry_after: float | None = None,
        advice: str = "",
        details: dict | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.status = status
        self.retry_after = retry_after
        self.advice = advice
        self.details = details or {}

    def __str__(self) -> str:
        prefix = f"{self.provider}: " if self.provider else ""
        return f"{prefix}{self.message}"


class ProviderUnavailable(GatewayError):
    pass


class RateLimited(ProviderUnavailable):
    pass


class CallRefused(ProviderUnavailable):
    pass


class ProviderRejected(GatewayError):
    pass


class OutcomeUnknown(GatewayError):
    pass


class NoProviderAvailable(GatewayError):
    def __init__(self, message: str, *, attempts: list[GatewayError] | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.attempts = attempts or []


class ProviderSkipped(GatewayError):
    """A fallback that does nothing real (the no-op adapter) declines: the chain answers
    skipped=True with this message as the reason. Never raised for work that was done."""


class NoProviderConfigured(NoProviderAvailable):
    """The capability has no enabled account at all ("skipped: no provider configured")."""


class Withdrawn(ProviderSkipped):
    """The caller withdrew a call right before its request (it no longer holds the work it was
    doing): nothing was sent, and the provider's health is not touched."""


class BudgetSpent(ProviderSkipped):
    """The account's daily request budget is used up: refused before any request, so it is neither a
    failure of the provider nor an attempt; the chain moves on to the next account."""
