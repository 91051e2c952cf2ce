"""The tag and topic link tables, and Contact.company, have no database foreign keys (imports write
them fast); these tests hold the application to keeping them whole: every way a contact, tag or
topic is deleted takes its links with it, and every way a company is deleted leaves its contacts
without a company."""

import pytest
from django.db import connection

from crm.models import Company, Contact, Tag, Topic
from crm.services import company_delete, contact_delete, topic_delete
from crm.tests.factories import CompanyFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

TagLink, TopicLink = Contact.tags.through, Contact.topics.through


def _orphans() -> tuple[int, int]:
    return (
        TagLink.objects.exclude(contact_id__in=Contact.objects.values("pk")).count()
        + TagLink.objects.exclude(tag_id__in=Tag.objects.values("pk")).count(),
        TopicLink.objects.exclude(contact_id__in=Contact.objects.values("pk")).count()
        + TopicLink.objects.exclude(topic_id__in=Topic.objects.values("pk")).count(),
    )


@pytest.fixture
def linked():
    tags = [TagFactory(), TagFactory()]
    topics = [Topic.objects.create(name=f"Topic {n}", slug=f"topic-{n}") for n in range(2)]
    contacts = [ContactFactory() for _ in range(3)]
    for contact in contacts:
        contact.tags.set(tags)
        contact.topics.set(topics)
    return contacts, tags, topics


def test_the_link_tables_have_no_database_foreign_keys():
    with connection.cursor() as cursor:
        for model in (TagLink, TopicLink):
            keys = connection.introspection.get_constraints(cursor, model._meta.db_table)
            assert [name for name, c in keys.items() if c["foreign_key"]] == []


def test_contact_company_has_no_database_foreign_key():
    column = Contact._meta.get_field("company").column
    with connection.cursor() as cursor:
        keys = connection.introspection.get_constraints(cursor, Contact._meta.db_table)
    assert [name for name, c in keys.items() if c["foreign_key"] and c["columns"] == [column]] == []
    # Its index stays: deleting a company finds the contacts to clear through it.
    assert any(c["index"] and c["columns"] == [column] for c in keys.values())


def test_deleting_companies_leaves_their_contacts_without_a_company():
    companies = [CompanyFactory() for _ in range(4)]
    contacts = [ContactFactory(company=company) for company in companies]
    bystander = ContactFactory(company=CompanyFactory())
    company_delete(company=companies[0])
    companies[1].delete()
    Company.objects.filter(pk__in=[companies[2].pk, companies[3].pk]).delete()
    assert [c.company_id for c in Contact.objects.filter(pk__in=[c.pk for c in contacts])] == [None] * 4
    assert Contact.objects.exclude(company=None).exclude(company_id__in=Company.objects.values("pk")).count() == 0
    bystander.refresh_from_db()
    assert bystander.company is not None


def test_deleting_contacts_tags_and_topics_leaves_no_orphan_links(linked):
    contacts, tags, topics = linked
    contact_delete(contact=contacts[0])
    Contact.objects.filter(pk=contacts[1].pk).delete()
    tags[0].delete()
    Tag.objects.filter(pk=tags[1].pk).delete()
    topic_delete(topic=topics[0])
    assert _orphans() == (0, 0)
    assert (TagLink.objects.count(), TopicLink.objects.count()) == (0, 1)
    Topic.objects.all().delete()
    Contact.objects.all().delete()
    assert (TagLink.objects.count(), TopicLink.objects.count()) == (0, 0)
