"""What every benchmark prints about where it ran, so figures can be compared honestly."""

import os
import platform
import resource


def setup_django(settings_module: str = "aicmo_site.settings.base"):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", settings_module)
    import django

    django.setup()


def bench_database(name: str, *, reuse: bool = False):
    """A database of the local PostgreSQL for one bench, migrated, with Django set up on it: made afresh,
    or the one an earlier run left when `reuse` and it exists. Returns (admin connection, url, reused); the
    admin connection drops it at the end."""
    import psycopg

    admin = psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True)
    reused = reuse and admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None
    if not reused:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgres://postgres@127.0.0.1:5432/{name}"
    os.environ["DATABASE_URL"] = url
    setup_django()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return admin, url, reused


def describe(**extra) -> str:
    from django.db import connection

    parts = {
        "database": f"{connection.vendor} {connection.settings_dict['NAME']}",
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "machine": platform.machine(),
        **extra,
    }
    return "conditions: " + ", ".join(f"{k}={v}" for k, v in parts.items())


def peak_rss_mb(children: bool = False) -> float:
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024
