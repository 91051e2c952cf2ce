import pytest
from django.db.models import F, IntegerField, Value

from aicmo_site.errors import DomainError
from crm.models import Contact
from crm.services.scores import contact_scores_apply
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def scores_for(contacts, score: int, tier: str):
    """Rows shaped as analytics hands them over: contact_id, score, tier."""
    return Contact.objects.filter(pk__in=[c.pk for c in contacts]).annotate(
        contact_id=F("pk"), score=Value(score, output_field=IntegerField()), tier=Value(tier))


def test_applies_only_changed_scores_in_one_update(django_assert_max_num_queries):
    same, changed, untouched = ContactFactory(), ContactFactory(), ContactFactory()
    assert contact_scores_apply(scores=scores_for([same], 0, "inactive")) == 0
    with django_assert_max_num_queries(4):  # savepoint, range check, the UPDATE, release
        assert contact_scores_apply(scores=scores_for([changed], 72, "high")) == 1
    assert Contact.objects.values_list("engagement_score", "engagement_tier").get(pk=changed.pk) == (72, "high")
    assert Contact.objects.get(pk=untouched.pk).engagement_tier == "inactive"
    assert contact_scores_apply(scores=scores_for([changed], 72, "high")) == 0


def test_out_of_range_rows_are_refused():
    contact = ContactFactory()
    with pytest.raises(DomainError, match="out of range"):
        contact_scores_apply(scores=scores_for([contact], 50, "legendary"))
    with pytest.raises(DomainError, match="out of range"):
        contact_scores_apply(scores=scores_for([contact], 101, "high"))
    assert Contact.objects.get(pk=contact.pk).engagement_score == 0
