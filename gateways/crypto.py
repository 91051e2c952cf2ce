"""Provider credentials at rest: JSON encrypted with MultiFernet over FIELD_ENCRYPTION_KEYS.

The first key encrypts, every key decrypts, so an operator rotates by prepending a new key and
running `manage.py rotate_provider_keys` (or simply saving each account).
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class CredentialsUnreadable(Exception):
    """The stored credentials were encrypted with a key that is no longer configured."""


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is empty: set one or more Fernet keys.")
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except (ValueError, TypeError):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY holds a value that is not a Fernet key (32 url-safe base64-encoded bytes)."
        )


def _current() -> MultiFernet:
    return _fernet(tuple(settings.FIELD_ENCRYPTION_KEYS))


def encrypt_json(value: dict) -> str:
    return _current().encrypt(json.dumps(value, sort_keys=True).encode()).decode()


def decrypt_json(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            "Stored credentials cannot be decrypted with any key in FIELD_ENCRYPTION_KEY; "
            "put back the key they were saved with, or enter the credentials again."
        )


def reencrypt(token: str) -> str:
    """The same secret encrypted with the newest key."""
    if not token:
        return token
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable("Stored credentials cannot be decrypted with any key in FIELD_ENCRYPTION_KEY.")
