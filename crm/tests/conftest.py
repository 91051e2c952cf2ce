import pytest
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
