"""Payments: pages of customers and charges from one account, and the secrets its webhooks are signed with.

A backfill pages through one account from start to end: a cursor belongs to the provider account that
gave it, so a list never fails over to another account part-way.
"""

from datetime import datetime

from gateways.capabilities import Capability, PaymentPage, PaymentsAdapter, ProviderKind
from gateways.chain import account_run, enabled_accounts
from gateways.models import ProviderAccount
from gateways.services.webhooks import webhook_secrets

PAYMENT_LISTS = ("customers", "charges")


def payments_account() -> ProviderAccount | None:
    """The enabled real payments account tried first (lowest priority number), or None."""
    return next((account for account in enabled_accounts(Capability.PAYMENTS) if account.kind == ProviderKind.REAL),
                None)


def payments_list_page(*, account_id: int, listing: str, after: str = "",
                       created_since: datetime | None = None) -> PaymentPage:
    """One page of `listing` (customers or charges) after the `after` cursor, health and breaker recorded."""
    if listing not in PAYMENT_LISTS:
        raise ValueError(f"No payments list {listing!r}; known: {', '.join(PAYMENT_LISTS)}")

    def page(adapter: PaymentsAdapter) -> PaymentPage:
        call = adapter.list_customers if listing == "customers" else adapter.list_charges
        return call(after=after, created_since=created_since)

    return account_run(account_id=account_id, capability=Capability.PAYMENTS, operation=page).value


def payments_webhook_secrets() -> list[str]:
    return webhook_secrets(Capability.PAYMENTS)
