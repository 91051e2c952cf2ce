import pytest
from django.db import IntegrityError

from crm.tests.factories import (
    CompanyFactory,
    ContactFactory,
    EngagementEventFactory,
    SegmentFactory,
    SuppressionFactory,
    TagFactory,
)

pytestmark = pytest.mark.django_db


def test_factories_make_valid_objects():
    tag = TagFactory()
    contact = ContactFactory(company=CompanyFactory(), tags=[tag])
    EngagementEventFactory(contact=contact)
    SegmentFactory()
    SuppressionFactory()
    contact.full_clean()
    assert list(contact.tags.all()) == [tag]
    assert contact.domain == "example.com"


def test_email_in_upper_case_is_refused_by_the_database():
    with pytest.raises(IntegrityError):
        ContactFactory(email="Someone@Example.com")


def test_same_suppression_twice_is_refused():
    SuppressionFactory(value="x@example.com")
    with pytest.raises(IntegrityError):
        SuppressionFactory._meta.model.objects.create(kind="email", value="x@example.com", reason="manual")
