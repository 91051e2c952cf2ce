from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from crm.models import Contact, Topic
from crm.segments import SegmentRulesError, rules_q, rules_validate
from crm.selectors import segment_count, segment_queryset
from crm.services.topics import contact_topics_set
from crm.tests.factories import ContactFactory, EngagementEventFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db


def emails(rules):
    segment = SegmentFactory(rules=rules)
    return sorted(segment_queryset(segment).values_list("email", flat=True))


@pytest.fixture
def people():
    vip, partner = TagFactory(name="vip"), TagFactory(name="partner")
    ann = ContactFactory(email="ann@acme.io", tags=[vip, partner], engagement_score=90, engagement_tier="high",
                         custom_fields={"plan": "pro", "seats": 12}, country="France")
    bob = ContactFactory(email="bob@acme.io", tags=[vip], engagement_score=40, lifecycle_status="engaged",
                         custom_fields={"plan": "free"})
    cid = ContactFactory(email="cid@other.org", email_status="valid", engagement_score=5)
    EngagementEventFactory(contact=ann, kind="opened", occurred_at=timezone.now() - timedelta(days=3))
    EngagementEventFactory(contact=bob, kind="opened", occurred_at=timezone.now() - timedelta(days=45))
    EngagementEventFactory(contact=cid, kind="clicked", occurred_at=timezone.now() - timedelta(days=1))
    return ann, bob, cid


def test_topics_any_all_and_none(people):
    ann, bob, _cid = people
    ai, events = Topic.objects.create(name="AI", slug="ai"), Topic.objects.create(name="Events", slug="events")
    contact_topics_set(contact=ann, topics=[ai, events], source="test")
    contact_topics_set(contact=bob, topics=[events], source="test")
    assert emails({"op": "and", "rules": [{"field": "topics", "operator": "any", "value": ["ai", "events"]}]}) == [
        "ann@acme.io", "bob@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "topics", "operator": "all", "value": ["events", "ai"]}]}) == [
        "ann@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "topics", "operator": "none", "value": ["ai"]}]}) == [
        "bob@acme.io", "cid@other.org"]
    assert rules_validate({"op": "and", "rules": [{"field": "topics", "operator": "some", "value": ["ai"]}]})


def test_tags_any_all_and_none(people):
    assert emails({"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["partner", "vip"]}]}) == [
        "ann@acme.io", "bob@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "tags", "operator": "all", "value": ["partner", "vip"]}]}) == [
        "ann@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "tags", "operator": "none", "value": ["vip"]}]}) == [
        "cid@other.org"]


def test_opened_in_the_last_30_days_is_an_exists_on_events(people):
    rules = {"op": "and", "rules": [
        {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 30}}]}
    assert emails(rules) == ["ann@acme.io"]
    rules["rules"][0]["operator"] = "not_within_days"
    assert emails(rules) == ["bob@acme.io", "cid@other.org"]


def test_nested_or_group_with_score_domain_and_status(people):
    rules = {"op": "and", "rules": [
        {"field": "engagement_score", "operator": "between", "value": [0, 50]},
        {"op": "or", "rules": [
            {"field": "domain", "operator": "in", "value": ["other.org"]},
            {"field": "lifecycle_status", "operator": "in", "value": ["engaged"]},
        ]},
    ]}
    assert emails(rules) == ["bob@acme.io", "cid@other.org"]
    rules["rules"].append({"field": "email_status", "operator": "in", "value": ["valid"]})
    assert emails(rules) == ["cid@other.org"]


def test_custom_field_values_by_key(people):
    assert emails({"op": "and", "rules": [{"field": "custom:plan", "operator": "eq", "value": "pro"}]}) == [
        "ann@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "custom:plan", "operator": "neq", "value": "pro"}]}) == [
        "bob@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "custom:seats", "operator": "gt", "value": 10}]}) == [
        "ann@acme.io"]
    assert emails({"op": "and", "rules": [{"field": "custom:plan", "operator": "not_exists"}]}) == [
        "cid@other.org"]


def test_tier_text_and_created_dates(people):
    assert emails({"op": "or", "rules": [
        {"field": "engagement_tier", "operator": "in", "value": ["high"]},
        {"field": "country", "operator": "eq", "value": "france"},
    ]}) == ["ann@acme.io"]
    assert len(emails({"op": "and", "rules": [{"field": "created_at", "operator": "within_days", "value": 1}]})) == 3


def test_a_segment_with_five_rules_runs_as_one_query(people):
    rules = {"op": "and", "rules": [
        {"field": "tags", "operator": "all", "value": ["vip", "partner"]},
        {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 30}},
        {"field": "engagement_score", "operator": "gte", "value": 50},
        {"field": "custom:plan", "operator": "eq", "value": "pro"},
        {"op": "or", "rules": [{"field": "domain", "operator": "in", "value": ["acme.io"]},
                               {"field": "email_status", "operator": "in", "value": ["valid"]}]},
    ]}
    with CaptureQueriesContext(connection) as queries:
        assert segment_count(rules) == 1
    assert len(queries) == 1


def test_invalid_rules_list_every_problem_with_its_path():
    problems = rules_validate({"op": "xor", "rules": [
        {"field": "shoe_size", "operator": "eq", "value": 9},
        {"field": "tags", "operator": "some", "value": ["vip"]},
        {"op": "and", "rules": [{"field": "engagement_score", "operator": "between", "value": [80, 20]}]},
        {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 0}},
        {"field": "custom:a__b", "operator": "eq", "value": 1},
    ]})
    paths = [problem["path"] for problem in problems]
    assert paths == ["rules.op", "rules.rules[0].field", "rules.rules[1].operator",
                     "rules.rules[2].rules[0].value", "rules.rules[3].value.days", "rules.rules[4].value"]
    # What a marketer reads: the builder's numbering and words, never a JSON path.
    assert [problem["where"] for problem in problems] == [
        "The rules, all or any", "Rule 1, field", "Rule 2, condition", "Rule 3 › 1, value", "Rule 4, number of days",
        "Rule 5, value"]
    with pytest.raises(SegmentRulesError) as error:
        rules_q({"op": "and", "rules": "everyone"})
    assert error.value.code == "invalid_rules"


def test_the_same_rules_make_the_same_sql_so_a_compiled_statement_can_be_kept():
    rules = {"op": "and", "rules": [
        {"field": "event", "operator": "within_days", "value": {"kind": "opened", "days": 30}},
        {"field": "created_at", "operator": "within_days", "value": 7},
        {"field": "created_at", "operator": "older_than_days", "value": 1}]}
    first = Contact.objects.filter(rules_q(rules)).query.sql_with_params()
    second = Contact.objects.filter(rules_q(rules)).query.sql_with_params()
    assert first == second
