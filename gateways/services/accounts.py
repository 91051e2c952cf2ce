"""Writes to provider accounts: create, update (credentials write-only), delete, probe, key rotation."""

import time
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError

from aicmo_site.errors import ConflictError, DomainError
from gateways import conf, crypto, health, ratelimit
from gateways.capabilities import Adapter, adapter_class
from gateways.chain import call_account
from gateways.errors import GatewayError, ProviderUnavailable
from gateways.models import ProviderAccount, ProviderHealth

EDITABLE_FIELDS = (
    "capability", "adapter", "name", "priority", "enabled", "base_url", "timeout_seconds",
    "rate_limit_count", "rate_limit_seconds", "settings",
)


def _adapter_class_or_error(key: str) -> type[Adapter]:
    try:
        return adapter_class(key)
    except LookupError as exc:
        raise ValidationError({"adapter": str(exc)})


def _store_credentials(account: ProviderAccount, cls: type[Adapter], credentials: dict[str, Any] | None) -> None:
    """Merge new secrets into the stored ones: a blank value keeps the old secret, so a form never
    has to show it again. Names the adapter does not declare are refused (and dropped when the
    adapter changes)."""
    unknown = set(credentials or {}) - set(cls.secret_parameters)
    if unknown:
        raise ValidationError({"credentials": f"{cls.label} takes no credential {', '.join(sorted(unknown))}; "
                                              f"it takes: {', '.join(cls.secret_parameters) or 'none'}."})
    stored = crypto.decrypt_json(account.credentials_encrypted) if account.credentials_encrypted else {}
    stored = {name: value for name, value in stored.items() if name in cls.secret_parameters}
    for name, value in (credentials or {}).items():
        if value not in (None, ""):
            stored[name] = str(value)
    account.credentials_encrypted = crypto.encrypt_json(stored) if stored else ""
    account.credential_names = sorted(stored)


@transaction.atomic
def account_create(
    *,
    capability: str,
    adapter: str,
    name: str,
    priority: int = 100,
    enabled: bool = True,
    base_url: str = "",
    timeout_seconds: float = 10.0,
    rate_limit_count: int | None = None,
    rate_limit_seconds: float | None = None,
    settings: dict | None = None,
    credentials: dict[str, str] | None = None,
) -> ProviderAccount:
    cls = _adapter_class_or_error(adapter)
    account = ProviderAccount(
        capability=capability, adapter=adapter, name=name, priority=priority, enabled=enabled, base_url=base_url,
        timeout_seconds=timeout_seconds, rate_limit_count=rate_limit_count, rate_limit_seconds=rate_limit_seconds,
        settings=settings or {}, channel=cls.channel,
    )
    _store_credentials(account, cls, credentials)
    account.full_clean()
    account.save()
    ProviderHealth.objects.create(account=account)
    return account


@transaction.atomic
def account_update(
    *, account: ProviderAccount, credentials: dict[str, str] | None = None, **changes: Any
) -> ProviderAccount:
    """Change plain fields and add or replace secrets; blank secret values keep the stored ones."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise DomainError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.", "not_editable")
    for field, value in changes.items():
        setattr(account, field, value)
    cls = _adapter_class_or_error(account.adapter)
    account.channel = cls.channel
    _store_credentials(account, cls, credentials)
    account.full_clean()
    account.save()
    ProviderHealth.objects.get_or_create(account=account)
    return account


@transaction.atomic
def account_delete(*, account: ProviderAccount) -> None:
    """Refused while something (a campaign, a channel) still points at the account: disable it instead."""
    try:
        account.delete()
    except ProtectedError as exc:
        users = sorted({str(obj._meta.verbose_name) for obj in exc.protected_objects})
        raise ConflictError(f"{account.name} is still used by: {', '.join(users)}. Disable it instead of deleting it.",
                            "in_use")


@transaction.atomic
def credentials_reencrypt_all() -> int:
    """Re-encrypt every account's secrets with the newest FIELD_ENCRYPTION_KEY; returns the count."""
    count = 0
    for account in ProviderAccount.objects.exclude(credentials_encrypted="").select_for_update().only(
        "pk", "credentials_encrypted"
    ):
        ProviderAccount.objects.filter(pk=account.pk).update(
            credentials_encrypted=crypto.reencrypt(account.credentials_encrypted)
        )
        count += 1
    return count


@dataclass
class ProbeOutcome:
    account_id: int
    provider: str
    ok: bool
    detail: str
    latency_ms: float | None
    advice: str = ""
    probed: bool = True  # False for a placeholder, a manual channel or an adapter that cannot be probed


def account_probe(*, account: ProviderAccount) -> ProbeOutcome:
    """The provider's cheapest authenticated call, recorded like any other call. It ignores the
    breaker (an operator asking is the point) but honours the shared rate limit.

    A placeholder, a manual channel or an adapter that cannot be probed is not called at all: an
    answer from something that calls no one would record a success, and make it look healthy."""
    health.health_row(account.pk)
    unprobed = health.not_probed_detail(account)
    if unprobed:
        return ProbeOutcome(account.pk, account.name, False, unprobed, None, health.fix_advice(account), probed=False)
    waited = ratelimit.take_token(account.pk, account.rate_limit, max_wait=conf.rate_limit_max_wait_seconds())
    if waited is None:
        return ProbeOutcome(account.pk, account.name, False, "not probed: rate limit reached", None)
    started = time.monotonic()

    def probe(adapter: Adapter):
        result = adapter.probe()
        if not result.ok:
            raise ProviderUnavailable(result.detail or "the probe failed", provider=account.name)
        return result

    try:
        result = call_account(account, probe)
    except GatewayError as exc:
        return ProbeOutcome(account.pk, account.name, False, exc.message, (time.monotonic() - started) * 1000,
                            health.advice_for(exc))
    return ProbeOutcome(account.pk, account.name, True, result.detail, result.latency_ms)
