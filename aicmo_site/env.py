"""Typed reading of settings from the environment.

A wrong value stops start-up with ImproperlyConfigured naming the variable and what it expects,
so an operator never finds out at the first request.
"""

import os
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be one of 1/0, true/false, yes/no, on/off; got {raw!r}.")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number; got {raw!r}.")
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number; got {raw!r}.")


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    return [item.strip() for item in raw.split(",") if item.strip()]


_SQLITE_OPTIONS = {
    # WAL lets the web server read while the worker writes; IMMEDIATE transactions take the write
    # lock up front, so a busy database waits (timeout) instead of failing with "database is locked".
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 30,
}


def database_from_url(url: str, *, base_dir: Path, variable: str = "DATABASE_URL") -> dict:
    """Parse sqlite:///relative.db, sqlite:////absolute.db or postgres://user:pass@host:port/name."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme == "sqlite":
        path = unquote(parts.path[1:] if parts.path.startswith("/") else parts.path)
        if not path:
            raise ImproperlyConfigured(f"{variable}={url!r} names no SQLite file; use sqlite:///var/aicmo.sqlite3.")
        file = Path(path) if Path(path).is_absolute() else base_dir / path
        # SQLite creates the file but not its folder; var/ is not in the repository.
        file.parent.mkdir(parents=True, exist_ok=True)
        return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(file), "OPTIONS": dict(_SQLITE_OPTIONS)}
    if scheme in {"postgres", "postgresql", "pgsql"}:
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(
                f"{variable} names no database: use postgres://USER:PASSWORD@HOST:PORT/DATABASE."
            )
        try:
            port = parts.port
        except ValueError:
            raise ImproperlyConfigured(f"{variable} has a port that is not a number.")
        options = dict(parse_qsl(parts.query))
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(port or ""),
            "CONN_MAX_AGE": 60,
            "CONN_HEALTH_CHECKS": True,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"{variable} has an unsupported scheme {scheme or '(none)'!r}: "
        "use sqlite:///path/to/file.sqlite3 or postgres://user:password@host:5432/name."
    )


_BUCKET_OPTIONS = {"endpoint_url": "endpoint_url", "region": "region_name", "addressing_style": "addressing_style"}


def media_storage_from_url(url: str, *, public_base_url: str = "", signed_url_seconds: int = 300,
                           variable: str = "MEDIA_STORAGE_URL") -> dict:
    """The STORAGES["default"] entry for s3://BUCKET[/PREFIX]?endpoint_url=...&region=...&addressing_style=...

    Credentials are not part of the URL: django-storages reads AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY from the environment (or an instance role when they are unset)."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "s3" or not parts.hostname:
        raise ImproperlyConfigured(
            f"{variable} must look like s3://BUCKET?endpoint_url=https://...&region=...; got {url!r}."
        )
    options = {"bucket_name": parts.netloc, "location": unquote(parts.path.strip("/")),
               "public_base_url": public_base_url.rstrip("/"), "querystring_expire": signed_url_seconds,
               # Signature version 4: the one every region and S3-compatible server accepts.
               "signature_version": "s3v4"}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in _BUCKET_OPTIONS:
            raise ImproperlyConfigured(
                f"{variable} has an unknown option {key!r}; known: {', '.join(sorted(_BUCKET_OPTIONS))}."
            )
        options[_BUCKET_OPTIONS[key]] = value
    return {"BACKEND": "aicmo_site.bucket.MediaBucketStorage", "OPTIONS": options}
