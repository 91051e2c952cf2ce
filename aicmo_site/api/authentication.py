"""API authentication: knox tokens, without reading every token of the user on every request."""

import time

from django.utils import timezone
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication

# Seconds between two sweeps of a user's expired tokens by one web process.
EXPIRED_TOKENS_SWEEP_SECONDS = 60
# Users remembered by one process before those not swept within the last interval are forgotten.
REMEMBERED_SWEEPS = 1000


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
            self._remember_sweep(auth_token.user_id, now)
            return super()._cleanup_token(auth_token)
        return False

    @classmethod
    def _remember_sweep(cls, user_id: int, now: float) -> None:
        """A forgotten user is only swept again sooner, so the memory stays bounded by the users of the
        last minute however many there are in all."""
        if len(cls.last_sweeps) >= REMEMBERED_SWEEPS:
            due = now - EXPIRED_TOKENS_SWEEP_SECONDS
            for user in [user for user, swept in cls.last_sweeps.items() if swept <= due]:
                del cls.last_sweeps[user]
        cls.last_sweeps[user_id] = now


class SweepingTokenScheme(KnoxTokenScheme):
    """The same token scheme in the API schema as knox's own."""

    target_class = SweepingTokenAuthentication
