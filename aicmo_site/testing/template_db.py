"""One migrated test database per run, copied for each pytest-xdist worker.

Each worker used to create its test database by running every migration, both workers at once on a
machine of two cores. Now the first worker to need a database migrates a template for the run, under a
lock the other waits on, and each worker's database is a copy of it: PostgreSQL's CREATE DATABASE ...
TEMPLATE (Django's DATABASES TEST "TEMPLATE" setting), a file copy on SQLite (aicmo_site.testing.sqlite3).
Django's own test database creation does the rest as before: its migrate finds every migration applied
and runs the post_migrate handlers. The xdist controller drops the template at the end of the run.
Not behind PgBouncer (DATABASE_TRANSACTION_POOLING): its pooled connections to the template would stop
PostgreSQL copying it.
"""

import fcntl
import tempfile
from pathlib import Path

import psycopg
from django.conf import settings
from django.db import connection
from psycopg import sql


def _lock_path(run: str) -> Path:
    return Path(tempfile.gettempdir()) / f"aicmo-test-template-{run}.lock"


def template_name(run: str) -> str:
    """The run's template: a name both the workers and the controller derive from xdist's run id."""
    if connection.vendor == "postgresql":
        return f"test_{settings.DATABASES['default']['NAME']}_template_{run[:8]}"
    return str(Path(tempfile.gettempdir()) / f"aicmo-test-template-{run[:8]}.sqlite3")


def template_use(run: str, *, verbosity: int = 0) -> None:
    """Makes this worker's test database a copy of the run's template, migrating the template first if no
    worker has yet. Called before Django creates the worker's test database."""
    name = template_name(run)
    with open(_lock_path(run), "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        lock.seek(0)
        if lock.read() != "built":  # a worker that failed half-way wrote nothing: the next one builds again
            _build(name, verbosity)
            lock.write("built")
    settings.DATABASES["default"]["TEST"]["TEMPLATE"] = name


def _build(name: str, verbosity: int) -> None:
    database = settings.DATABASES["default"]  # the dict the connection reads (connection.settings_dict)
    own_name, own_test_name = database["NAME"], database["TEST"].get("NAME")
    database["TEST"]["NAME"] = name
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True, serialize=False)
    finally:
        # A template may have no connection when it is copied.
        connection.close()
        database["NAME"], database["TEST"]["NAME"] = own_name, own_test_name


def template_drop(run: str) -> None:
    """Drops the run's template, if a worker built one. Called by the xdist controller, which has no
    connection of Django's (pytest-django blocks them outside tests)."""
    name = template_name(run)
    if connection.vendor == "postgresql":
        database = settings.DATABASES["default"]
        with psycopg.connect(host=database["HOST"], port=database["PORT"], user=database["USER"],
                             password=database["PASSWORD"], dbname="postgres", autocommit=True) as server:
            server.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
    else:
        for path in (name, f"{name}-wal", f"{name}-shm"):
            Path(path).unlink(missing_ok=True)
    _lock_path(run).unlink(missing_ok=True)
