"""Repository signals: one code-host account read for the repositories the CRM watches.

Reads go to one account, not a chain: an ETag belongs to the account (and token) that was answered it.
"""

from gateways.capabilities import (
    Capability,
    Conditional,
    ProviderKind,
    RepositorySignalsAdapter,
    RepositoryTraffic,
)
from gateways.chain import account_run, enabled_accounts
from gateways.models import ProviderAccount


def repository_account() -> ProviderAccount | None:
    """The enabled real repository-signals account tried first (lowest priority number), or None."""
    return next((account for account in enabled_accounts(Capability.REPOSITORY_SIGNALS)
                 if account.kind == ProviderKind.REAL), None)


def _run(account_id: int, operation):
    return account_run(account_id=account_id, capability=Capability.REPOSITORY_SIGNALS, operation=operation).value


def repository_figures_read(*, account_id: int, full_name: str, etag: str = "") -> Conditional:
    def read(adapter: RepositorySignalsAdapter) -> Conditional:
        return adapter.repository(full_name, etag=etag)

    return _run(account_id, read)


def repository_releases_read(*, account_id: int, full_name: str, etag: str = "") -> Conditional:
    def read(adapter: RepositorySignalsAdapter) -> Conditional:
        return adapter.releases(full_name, etag=etag)

    return _run(account_id, read)


def repository_traffic_read(*, account_id: int, full_name: str, kind: str) -> RepositoryTraffic | None:
    def read(adapter: RepositorySignalsAdapter) -> RepositoryTraffic | None:
        return adapter.traffic(full_name, kind)

    return _run(account_id, read)
