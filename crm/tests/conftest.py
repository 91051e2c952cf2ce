import os
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from crm.tests.github_replay import GitHubReplay, github_account
from gateways.tests.factories import ProviderAccountFactory


@pytest.fixture
def enrichment_account():
    """A real (test) enrichment provider: a run refuses to start without one."""
    return ProviderAccountFactory(name="enricher")


@pytest.fixture
def account(httpserver):
    """The GitHub account whose token reads from the contract server replaying GitHub."""
    return github_account(httpserver)


@pytest.fixture
def replay(httpserver, account):
    """GitHub replayed for octocat/Hello-World (crm/tests/github_replay.py)."""
    return GitHubReplay(httpserver)


@pytest.fixture
def contacts_api(api_as):
    """A marketer's API client whose permissions are loaded already, so each page's queries are its own."""
    client = api_as("Marketer")
    client.get("/api/contacts/")
    return client


@pytest.fixture(autouse=True)
def page_anchors_forgotten():
    """Each test numbers its own contact lists: positions remembered (crm.page_anchors, in the cache) by an
    earlier test would count its rolled-back contacts."""
    cache.clear()


def _migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator(transactional_db):
    """Migrates to the given targets and returns their models; migrates to the latest state again after."""
    yield _migrate
    _migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


@contextmanager
def _empty_database():
    """Points the default connection at a new, empty database (beside the test database) until the end."""
    test_name = connection.settings_dict["NAME"]
    # Named after this process's test database (whether made yet or not), so xdist workers do not share it.
    name = f"{connection.creation._get_test_db_name()}_migrations"
    connection.close()
    if connection.vendor == "sqlite":
        if os.path.exists(name):
            os.remove(name)
    else:
        with connection.creation._nodb_cursor() as cursor:
            # FORCE: a pooler (scripts/pgbouncer.sh) may still hold an idle connection to it.
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
    connection.settings_dict["NAME"] = settings.DATABASES[connection.alias]["NAME"] = name
    try:
        yield
    finally:
        connection.close()
        if connection.vendor == "sqlite":
            os.remove(name)
        else:
            with connection.creation._nodb_cursor() as cursor:
                cursor.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        connection.settings_dict["NAME"] = settings.DATABASES[connection.alias]["NAME"] = test_name


@pytest.fixture
def migrator_from_empty(django_db_setup, django_db_blocker):
    """Like `migrator`, on an empty database of its own: going back to an early migration on the test
    database would unapply, then apply again, every later migration of every app that depends on it
    (minutes); from empty, only the targets' ancestors are applied. Only migrations run there, never the
    test database, so no flush is needed after."""
    with django_db_blocker.unblock(), _empty_database():
        yield _migrate
