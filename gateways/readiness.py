"""Can a real provider do this work? Asked before work starts, by back office, API and commands alike.

Gateways answers per capability (or per account); the domain apps decide which work needs which
capability. They also say what currently relies on a capability (a running send, a scheduled sync)
through `register_use`, so health reports fail only for capabilities that something needs.
"""

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode

from django.urls import reverse

from aicmo_site.wording import with_article
from gateways.capabilities import Capability, ProviderKind
from gateways.health import account_status
from gateways.models import HealthStatus, ProviderAccount

# Statuses a real account may be in and still be given work: a new account has not been called
# yet, and an account that cannot be probed is judged by its calls.
_USABLE = {HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.UNKNOWN, HealthStatus.NOT_PROBED}
_LABELS = dict(Capability.CHOICES)


@dataclass(frozen=True)
class Readiness:
    ready: bool
    reason: str = ""
    fix_url: str = ""
    provider: str = ""

    def as_dict(self) -> dict:
        return {"ready": self.ready, "reason": self.reason, "fix_url": self.fix_url, "provider": self.provider}


def fix_url(capability: str) -> str:
    """Where an Admin adds an account of this capability: the back office, not the Django admin."""
    return f"{reverse('gateways:provider-new')}?{urlencode({'capability': capability})}"


def _what(capability: str, channel: str = "") -> str:
    label = " ".join(word if word.isupper() else word.lower()
                     for word in _LABELS.get(capability, capability.replace("_", " ")).split())
    return f"{label} ({channel})" if channel else label


def accounts_readiness(capability: str, accounts: list[ProviderAccount], *, channel: str = "",
                       manual_ok: bool = False) -> Readiness:
    """Ready when one enabled real account (or, with manual_ok, a manual channel) can take the work."""
    enabled = [account for account in accounts if account.enabled]
    for account in enabled:
        if account.kind == ProviderKind.REAL and account_status(account) in _USABLE:
            return Readiness(True, provider=account.name)
    if manual_ok:
        manual = next((account for account in enabled if account.kind == ProviderKind.MANUAL), None)
        if manual is not None:
            return Readiness(True, provider=manual.name)
    what, url = _what(capability, channel), fix_url(capability)
    real = [account for account in enabled if account.kind == ProviderKind.REAL]
    if real:
        down = "; ".join(f"{account.name}: {_why_down(account)}" for account in real)
        return Readiness(False, f"Every {what} provider is down ({down}).", url)
    placeholders = [account.name for account in enabled if account.kind != ProviderKind.REAL]
    if placeholders:
        return Readiness(False, f"No real {what} provider is configured: {', '.join(placeholders)} "
                                f"{'does' if len(placeholders) == 1 else 'do'} nothing real. "
                                f"Add {with_article(what)} account in Provider accounts.", url)
    return Readiness(False, f"No {what} provider is configured. "
                            f"Add {with_article(what)} account in Provider accounts.", url)


def _why_down(account: ProviderAccount) -> str:
    row = getattr(account, "health", None)
    return (row and (row.last_advice or row.last_error)) or "its circuit breaker is open"


def capability_readiness(capability: str, *, channel: str = "", manual_ok: bool = False) -> Readiness:
    accounts = ProviderAccount.objects.select_related("health").filter(capability=capability, enabled=True)
    if channel:
        accounts = accounts.filter(channel=channel)
    return accounts_readiness(capability, list(accounts.order_by("priority", "name")), channel=channel,
                              manual_ok=manual_ok)


def account_readiness(account: ProviderAccount, *, manual_ok: bool = False) -> Readiness:
    """One specific account (a channel's own): no other account stands in for it."""
    if not account.enabled:
        return Readiness(False, f"{account.name} is disabled. Enable it in Provider accounts.",
                         reverse("gateways:provider-edit", args=[account.pk]))
    return accounts_readiness(account.capability, [account], channel=account.channel, manual_ok=manual_ok)


# ---- what relies on each capability ---------------------------------------------------------

Uses = Callable[[], list[str]]
_USES: dict[str, list[Uses]] = {}


def register_use(capability: str, uses: Uses) -> None:
    """`uses()` names the work that needs `capability` now ("Send 'Spring news' is sending"); domain
    apps register theirs in AppConfig.ready()."""
    if uses not in _USES.setdefault(capability, []):
        _USES[capability].append(uses)


def capability_uses() -> dict[str, list[str]]:
    return {capability: [use for uses in registered for use in uses()] for capability, registered in _USES.items()}
