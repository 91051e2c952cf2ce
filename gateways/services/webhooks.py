"""The secrets providers sign their webhooks with, kept encrypted in their accounts."""

from gateways.chain import adapter_for, enabled_accounts
from gateways.crypto import CredentialsUnreadable


def webhook_secrets(capability: str) -> list[str]:
    """Every webhook signing secret of the capability's enabled accounts (a current and a previous one
    each while a secret is rolled over); an account whose credentials cannot be read adds none."""
    secrets: list[str] = []
    for account in enabled_accounts(capability):
        try:
            adapter = adapter_for(account)
        except (CredentialsUnreadable, LookupError):
            continue
        secrets.extend(secret for secret in adapter.webhook_secrets() if secret not in secrets)
    return secrets
