"""API authentication: knox tokens, without reading every token of the user on every request."""

import time

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

# Seconds between two sweeps of a user's expired tokens by one web process.
EXPIRED_TOKENS_SWEEP_SECONDS = 60


class SweepingTokenAuthentication(TokenAuthentication):
    """Knox's token authentication, sweeping the user's other expired tokens at most once a minute per
    process instead of on every request (a query of each API call, bench/NOTES.md). The token presented
    is still refused and deleted the moment it expires; another expired token is refused whenever it is
    presented, swept or not."""

    last_sweeps: dict[int, float] = {}

    def _cleanup_token(self, auth_token) -> bool:
        now = time.monotonic()
        expired = auth_token.expiry is not None and auth_token.expiry < timezone.now()
        if expired or now - self.last_sweeps.get(auth_token.user_id, float("-inf")) >= EXPIRED_TOKENS_SWEEP_SECONDS:
            self.last_sweeps[auth_token.user_id] = now
            return super()._cleanup_token(auth_token)
        return False


class SweepingTokenScheme(KnoxTokenScheme):
    """The same token scheme in the API schema as knox's own."""

    target_class = SweepingTokenAuthentication
