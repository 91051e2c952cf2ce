import pytest


@pytest.fixture
def as_role(client, make_user):
    """The test client signed in as a user of that role."""
    def login(role):
        client.force_login(make_user(f"user-{role.lower()}", role=role))
        return client

    return login
