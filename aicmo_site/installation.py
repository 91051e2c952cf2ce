"""This installation's random identifier (aicmo_site.models.Installation), read once per process."""

import secrets
from functools import cache

from aicmo_site.models import Installation

SINGLETON_PK = 1


def new_identifier() -> str:
    return secrets.token_hex(8)


@cache
def installation_identifier() -> str:
    """Made here only when the row is missing (a database emptied without migrating, as tests do);
    the pk is fixed, so two processes racing to make it end with the same one."""
    installation, _created = Installation.objects.get_or_create(
        pk=SINGLETON_PK, defaults={"identifier": new_identifier()})
    return installation.identifier
