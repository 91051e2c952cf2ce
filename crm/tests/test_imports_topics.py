"""A CSV column of topics of interest: split like tags, matched to existing topics by name or slug;
an unknown topic fails its row with the column and the value in the error report."""

import pytest

from crm.choices import ImportPolicy
from crm.imports.mapping import auto_mapping, mapping_resolve
from crm.models import Contact, Topic
from crm.tests.factories import ContactFactory
from crm.tests.test_imports import report_rows, run_import

pytestmark = pytest.mark.django_db


@pytest.fixture
def topics():
    return {slug: Topic.objects.create(name=name, slug=slug)
            for name, slug in (("Product news", "product-news"), ("Events", "events"), ("AI", "ai"))}


def _slugs(email: str) -> set[str]:
    return set(Contact.objects.get(email=email).topics.values_list("slug", flat=True))


@pytest.mark.parametrize("header", ["Topics", "Interests", "topic", "Areas of interest"])
def test_topics_and_interests_headers_are_mapped_automatically(header):
    assert auto_mapping(["Email", header]) == {"Email": "email", header: "topics"}


def test_a_column_can_be_mapped_to_topics_by_hand():
    assert mapping_resolve(["Email", "Likes"], {"Likes": "topics"})["Likes"] == "topics"


def test_topics_are_matched_by_name_or_slug_whatever_the_case_and_split_like_tags(topics):
    run = run_import("Email,Interests\n"
                     "ana@example.com,\"product news, EVENTS\"\n"
                     "bo@example.com,ai; events\n"
                     "cy@example.com,\n")
    assert (run.created_count, run.failed_count) == (3, 0)
    assert _slugs("ana@example.com") == {"product-news", "events"}
    assert _slugs("bo@example.com") == {"ai", "events"}
    assert _slugs("cy@example.com") == set()


def test_an_unknown_topic_fails_its_row_naming_the_column_and_the_value(topics):
    run = run_import("Email,Topics\nana@example.com,events;Gardening\nbo@example.com,ai\n")
    assert (run.created_count, run.failed_count) == (1, 1)
    assert not Contact.objects.filter(email="ana@example.com").exists()
    assert [(r["line"], r["column"], r["value"], r["reason"]) for r in report_rows(run)] == [
        ("2", "Topics", "Gardening", "No topic has this name or slug; add the topic first or fix the value."),
    ]
    assert not Topic.objects.filter(name__iexact="gardening").exists()


@pytest.mark.parametrize("policy", [ImportPolicy.UPDATE, ImportPolicy.SKIP_EXISTING])
def test_topics_are_added_to_stored_contacts_which_keep_theirs_whatever_the_policy(topics, policy):
    stored = ContactFactory(email="ana@example.com")
    stored.topics.add(topics["ai"])
    run_import("Email,Topics\nana@example.com,events\nbo@example.com,events\nbo@example.com,ai\n", policy=policy)
    assert _slugs("ana@example.com") == {"ai", "events"}
    # Duplicate rows inside the file add up their topics, like their tags.
    assert _slugs("bo@example.com") == {"ai", "events"}
