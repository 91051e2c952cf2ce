import pytest

from media.tests.factories import LibraryFactory, UserFactory


@pytest.fixture
def library(db):
    return LibraryFactory(name="Brand")


@pytest.fixture
def marketer(make_user):
    return make_user("marketer-media", role="Marketer")


@pytest.fixture
def approver(make_user):
    return make_user("approver-media", role="Approver")


@pytest.fixture
def someone(db):
    return UserFactory()
