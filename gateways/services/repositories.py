"""Repository signals: one code-host account read for the repositories the CRM watches.

Reads go to one account, not a chain: an ETag belongs to the account (and token) that was answered it.
"""

from gateways.capabilities import (
    Capability,
    Conditional,
    ProviderKind,
    RepositorySignalsAdapter,
    RepositoryTraffic,
    StargazerPage,
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


def repository_stargazers_read(*, account_id: int, full_name: str, page_url: str = "") -> StargazerPage:
    def read(adapter: RepositorySignalsAdapter) -> StargazerPage:
        return adapter.stargazers(full_name, page_url=page_url)

    return _run(account_id, read)


def code_host_public_email_read(*, account_id: int, login: str) -> str:
    def read(adapter: RepositorySignalsAdapter) -> str:
        return adapter.public_email(login)

    return _run(account_id, read)
