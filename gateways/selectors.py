"""Reads of provider accounts and their health, shared by self_check, the API and the back office."""

from dataclasses import asdict, dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from gateways.capabilities import Capability
from gateways.models import HealthStatus, ProviderAccount, ProviderHealth
from gateways.services import ProbeOutcome

SORTS = {"priority": ("capability", "priority", "name"), "name": ("name",), "-name": ("-name",),
         "capability": ("capability", "priority"), "updated": ("-updated",)}


def account_list(*, capability: str = "", search: str = "", enabled: bool | None = None,
                 sort: str = "priority") -> QuerySet[ProviderAccount]:
    accounts = ProviderAccount.objects.select_related("health")
    if capability:
        accounts = accounts.filter(capability=capability)
    if search:
        accounts = accounts.filter(Q(name__icontains=search) | Q(adapter__icontains=search))
    if enabled is not None:
        accounts = accounts.filter(enabled=enabled)
    return accounts.order_by(*SORTS.get(sort, SORTS["priority"]))


@dataclass
class ProviderReport:
    id: int
    name: str
    adapter: str
    capability: str
    capability_label: str
    priority: int
    enabled: bool
    fallback: bool
    status: str
    success_rate: float | None
    latency_ms: float | None
    calls: int
    consecutive_failures: int
    breaker: str
    open_until: str | None
    open_reason: str
    last_error: str
    advice: str
    last_success_at: str | None
    last_failure_at: str | None
    probe: dict | None = None


@dataclass
class CapabilityReport:
    capability: str
    label: str
    in_use: bool
    ok: bool
    providers: list[ProviderReport] = field(default_factory=list)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def provider_report(account: ProviderAccount, probe: ProbeOutcome | None = None) -> ProviderReport:
    health = getattr(account, "health", None) or ProviderHealth(account=account)
    return ProviderReport(
        id=account.pk, name=account.name, adapter=account.adapter, capability=account.capability,
        capability_label=account.get_capability_display(), priority=account.priority,
        enabled=account.enabled, fallback=account.is_fallback, status=health.status if account.enabled else "disabled",
        success_rate=None if health.success_rate is None else round(health.success_rate, 4),
        latency_ms=None if health.latency_ms is None else round(health.latency_ms, 1),
        calls=health.calls, consecutive_failures=health.consecutive_failures, breaker=health.breaker_state,
        open_until=_iso(health.open_until), open_reason=health.open_reason, last_error=health.last_error,
        advice=health.last_advice,
        last_success_at=_iso(health.last_success_at), last_failure_at=_iso(health.last_failure_at),
        probe=asdict(probe) if probe else None,
    )


def health_report(*, probes: dict[int, ProbeOutcome] | None = None) -> list[CapabilityReport]:
    """Every capability with its accounts by priority. A capability is in use when it has an
    enabled account, and ok when it is not in use or one enabled account is healthy."""
    probes = probes or {}
    by_capability: dict[str, list[ProviderReport]] = {key: [] for key, _ in Capability.CHOICES}
    for account in account_list():
        by_capability.setdefault(account.capability, []).append(provider_report(account, probes.get(account.pk)))
    reports = []
    for key, label in Capability.CHOICES:
        providers = by_capability[key]
        in_use = any(p.enabled for p in providers)
        healthy = any(p.enabled and p.status == HealthStatus.HEALTHY for p in providers)
        reports.append(CapabilityReport(capability=key, label=label, in_use=in_use, ok=healthy or not in_use,
                                        providers=providers))
    return reports


def home_providers() -> dict:
    """For the home page, from one read of the accounts: enabled accounts that are down or degraded,
    and whether an enabled email-sending account exists (the getting-started checklist's first step)."""
    reports = health_report()
    enabled = [p for report in reports for p in report.providers if p.enabled]
    return {
        "problems": [p for p in enabled if p.status in (HealthStatus.DOWN, HealthStatus.DEGRADED)],
        "has_sender": any(p.capability == Capability.EMAIL_SENDING for p in enabled),
    }


def health_document(reports: list[CapabilityReport]) -> dict:
    return {
        "checked_at": timezone.now().isoformat(),
        "ok": all(report.ok for report in reports),
        "capabilities": [asdict(report) for report in reports],
    }
