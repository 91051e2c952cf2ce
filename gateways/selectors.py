"""Reads of provider accounts and their health, shared by self_check, the API and the back office."""

from dataclasses import asdict, dataclass, field

from django.db.models import Q, QuerySet
from django.utils import timezone

from gateways.adapters._llm import BUDGET_PARAMETER
from gateways.capabilities import Capability, ProviderKind, adapters_for
from gateways.health import account_status, fix_advice, status_label
from gateways.models import HealthStatus, ProviderAccount, ProviderHealth, TextGenerationUsage
from gateways.readiness import Readiness, capability_uses, fix_url
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
    kind: str
    status: str
    status_label: str
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
    status: str  # the best of its enabled accounts', "not_configured" when it has none
    status_label: str
    uses: list[str] = field(default_factory=list)  # the work that needs it now
    fix_url: str = ""
    providers: list[ProviderReport] = field(default_factory=list)


def _iso(moment) -> str | None:
    return moment.isoformat() if moment else None


def provider_report(account: ProviderAccount, probe: ProbeOutcome | None = None) -> ProviderReport:
    health = getattr(account, "health", None) or ProviderHealth(account=account)
    status = account_status(account)
    return ProviderReport(
        id=account.pk, name=account.name, adapter=account.adapter, capability=account.capability,
        capability_label=account.get_capability_display(), priority=account.priority,
        enabled=account.enabled, fallback=account.is_fallback, kind=account.kind, status=status,
        status_label=status_label(status),
        success_rate=None if health.success_rate is None else round(health.success_rate, 4),
        latency_ms=None if health.latency_ms is None else round(health.latency_ms, 1),
        calls=health.calls, consecutive_failures=health.consecutive_failures, breaker=health.breaker_state,
        open_until=_iso(health.open_until), open_reason=health.open_reason, last_error=health.last_error,
        advice=health.last_advice,
        last_success_at=_iso(health.last_success_at), last_failure_at=_iso(health.last_failure_at),
        probe=asdict(probe) if probe else None,
    )


# Best first: a capability shows the best status among its enabled accounts.
STATUS_ORDER = (HealthStatus.HEALTHY, HealthStatus.DEGRADED, HealthStatus.NOT_PROBED, HealthStatus.UNKNOWN,
                HealthStatus.DOWN, HealthStatus.MANUAL, HealthStatus.NOT_CONFIGURED)


def health_report(*, probes: dict[int, ProbeOutcome] | None = None) -> list[CapabilityReport]:
    """Every capability with its accounts by priority. A capability is in use when some work needs
    it (see gateways.readiness.register_use) or it has an enabled real account, and ok when it is
    not in use or one enabled real account is healthy: placeholders, manual channels and accounts
    never probed never make it ok."""
    probes = probes or {}
    uses = capability_uses()
    by_capability: dict[str, list[ProviderReport]] = {key: [] for key, _ in Capability.CHOICES}
    for account in account_list():
        by_capability.setdefault(account.capability, []).append(provider_report(account, probes.get(account.pk)))
    reports = []
    for key, label in Capability.CHOICES:
        providers = by_capability[key]
        enabled = [p for p in providers if p.enabled]
        in_use = bool(uses.get(key)) or any(p.kind == ProviderKind.REAL for p in enabled)
        healthy = any(p.kind == ProviderKind.REAL and p.status == HealthStatus.HEALTHY for p in enabled)
        status = min((p.status for p in enabled), key=STATUS_ORDER.index, default=HealthStatus.NOT_CONFIGURED)
        reports.append(CapabilityReport(capability=key, label=label, in_use=in_use, ok=healthy or not in_use,
                                        status=status, status_label=status_label(status), uses=uses.get(key, []),
                                        fix_url=fix_url(key), providers=providers))
    return reports


def home_providers() -> dict:
    """For the home page, from one read of the accounts: enabled accounts that are down or degraded,
    and whether an enabled, real email-sending account exists (the getting-started checklist's first
    step): a placeholder sends nothing, so it never ticks "Add a sender" off."""
    reports = health_report()
    enabled = [p for report in reports for p in report.providers if p.enabled]
    return {
        "problems": [p for p in enabled if p.status in (HealthStatus.DOWN, HealthStatus.DEGRADED)],
        "has_sender": any(p.capability == Capability.EMAIL_SENDING and p.kind == ProviderKind.REAL for p in enabled),
    }


def health_document(reports: list[CapabilityReport]) -> dict:
    return {
        "checked_at": timezone.now().isoformat(),
        "ok": all(report.ok for report in reports),
        "capabilities": [asdict(report) for report in reports],
    }


# What a person is told about each kind of adapter when choosing one.
KIND_NOTES = {
    ProviderKind.REAL: "",
    ProviderKind.MANUAL: "Manual: a person publishes each draft",
    ProviderKind.PLACEHOLDER: "Placeholder: sends nothing",
}


def adapter_choices(*, capability: str = "") -> list[dict]:
    """The adapters an Admin may add, per capability: real providers first, then manual channels, then
    the placeholders, each marked as what it is."""
    order = (ProviderKind.REAL, ProviderKind.MANUAL, ProviderKind.PLACEHOLDER)
    groups = []
    for key, label in Capability.CHOICES:
        if capability and key != capability:
            continue
        adapters = sorted(adapters_for(key), key=lambda cls: (order.index(cls.kind), cls.label.lower()))
        groups.append({"capability": key, "label": label, "adapters": [
            {"key": cls.key, "label": cls.label, "kind": cls.kind, "note": KIND_NOTES[cls.kind], "limits": cls.limits}
            for cls in adapters]})
    return groups


@dataclass
class NextStep:
    """What an account's page advises next: a sentence, how it reads (ok, warn, bad) and, when the
    step is on another page, a link; `action` names a button of the page itself (test, enable)."""

    text: str
    tone: str = "warn"
    url: str = ""
    link: str = ""
    action: str = ""


def next_step(account: ProviderAccount, report: ProviderReport, readiness: Readiness) -> NextStep:
    what = account.get_capability_display().lower()
    if not account.enabled:
        return NextStep("Disabled: no work goes to it. Enable it to use it again.", action="enable")
    if account.kind == ProviderKind.PLACEHOLDER:
        return NextStep(f"Placeholder: sends nothing. Next: {fix_advice(account)}.", "bad",
                        fix_url(account.capability), f"Add a real {what} account")
    if account.kind == ProviderKind.MANUAL:
        return NextStep(f"Manual: a person publishes each draft. To publish without a person, "
                        f"{fix_advice(account)}.", "muted", fix_url(account.capability), "Add a channel account")
    if report.status == HealthStatus.HEALTHY:
        return NextStep(f"Healthy: {what} work goes through it.", "ok")
    if report.status == HealthStatus.NOT_PROBED:
        return NextStep("Not probed: testing it would do real work, so its first real call tells whether the "
                        "settings work.", "muted")
    if report.status == HealthStatus.UNKNOWN:
        return NextStep("Not called yet. Next: test it, to see that the provider answers with these settings.",
                        action="test")
    advice = (report.advice or readiness.reason or report.last_error).rstrip(".")
    return NextStep(f"{report.status_label.capitalize()}: {advice}. Fix the settings, then test it again.", "bad",
                    action="test")


def text_usage_today(account: ProviderAccount) -> dict | None:
    """A text-generation account's requests, tokens and estimated cost today (UTC), with its budget."""
    if account.capability != Capability.TEXT_GENERATION:
        return None
    row = TextGenerationUsage.objects.filter(account=account, day=timezone.now().date()).first()
    return {"requests": row.requests if row else 0, "input_tokens": row.input_tokens if row else 0,
            "output_tokens": row.output_tokens if row else 0, "cost_estimate": row.cost_estimate if row else None,
            "budget": (account.settings or {}).get(BUDGET_PARAMETER) or None}
