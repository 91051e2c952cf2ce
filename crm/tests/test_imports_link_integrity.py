"""The tag and topic link tables, and Contact.company, have no database foreign keys (imports write
them fast); these tests hold the application to keeping them whole: every way a contact, tag or
topic is deleted takes its links with it, and every way a company is deleted leaves its contacts
without a company."""

import threading

import psycopg
import pytest
from django.db import connection, transaction

from crm.models import Company, Contact, Tag, Topic
from crm.services import company_delete, contact_delete, contacts_tag, topic_delete
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


_ADD_CONTACT = (
    "INSERT INTO crm_contact (email, domain, first_name, last_name, job_title, phone, linkedin_url, city, country, "
    "source, company_id, lifecycle_status, email_status, consent_status, consent_source, custom_fields, "
    "field_sources, engagement_score, engagement_tier, soft_bounce_count, created_at, updated_at) "
    "SELECT %s, 'acme.example', '', '', '', '', '', '', '', 'import', "
    "(SELECT id FROM crm_company WHERE domain = 'acme.example'), 'new', 'unknown', 'subscribed', '', '{}', '{}', "
    "0, 'inactive', 0, now(), now()"
)


def _importer() -> psycopg.Connection:
    """A second connection, writing a contact of the company as an import's merge does."""
    settings = connection.settings_dict
    return psycopg.connect(host=settings["HOST"], port=settings["PORT"] or 5432, user=settings["USER"],
                           dbname=settings["NAME"])


def _in_thread(work) -> tuple[threading.Thread, threading.Event]:
    done = threading.Event()

    def run():
        try:
            work()
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, done


@pytest.mark.django_db(transaction=True)
def test_a_company_delete_waits_for_an_import_assigning_it_and_then_clears_its_contacts():
    """What the foreign key used to guarantee, both ways round: a delete waits for an import's chunk that
    already assigned the company and clears those contacts too; a chunk that starts during the delete
    finds no company."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: an import and a delete cannot interleave")
    company = CompanyFactory(domain="acme.example")
    importer = _importer()
    try:
        _delete_and_import_interleaved(company, importer)
    finally:
        importer.close()  # an open chunk left behind would block the test database's teardown


def _delete_and_import_interleaved(company, importer):
    early = ContactFactory.build().email
    importer.execute(_ADD_CONTACT, [early])
    thread, deleted = _in_thread(lambda: company_delete(company=Company.objects.get(pk=company.pk)))
    assert not deleted.wait(0.5), "the delete did not wait for the import's open chunk"
    importer.commit()
    thread.join(10)
    assert deleted.is_set() and not Company.objects.filter(pk=company.pk).exists()
    assert Contact.objects.get(email=early).company_id is None

    company = CompanyFactory(domain="acme.example")
    late = ContactFactory.build().email
    with transaction.atomic():
        company_delete(company=company)
        thread, written = _in_thread(lambda: (importer.execute(_ADD_CONTACT, [late]), importer.commit()))
        assert not written.wait(0.5), "the import's chunk did not wait for the delete"
    thread.join(10)
    assert Contact.objects.get(email=late).company_id is None


@pytest.mark.django_db(transaction=True)
def test_tagging_a_contact_another_transaction_is_tagging_skips_it_once_that_commits():
    """Two writers tagging one contact at once (a journey's tag step and an import's chunk): the second
    waits for the first's link and then skips it, instead of failing its whole batch on the unique key."""
    if connection.vendor != "postgresql":
        pytest.skip("SQLite has one writer at a time: two taggings cannot interleave")
    tag = TagFactory(name="vip")
    taken, free = ContactFactory(), ContactFactory()
    importer = _importer()
    added = []
    try:
        importer.execute("INSERT INTO crm_contact_tags (contact_id, tag_id) VALUES (%s, %s)", [taken.pk, tag.pk])
        thread, tagged = _in_thread(lambda: added.append(
            contacts_tag(contacts=Contact.objects.filter(pk__in=[taken.pk, free.pk]), tag_names=["vip"])))
        assert not tagged.wait(0.5), "the tagging did not wait for the other transaction's link"
        importer.commit()
        thread.join(10)
    finally:
        importer.close()
    assert added == [1]
    assert sorted(TagLink.objects.filter(tag=tag).values_list("contact_id", flat=True)) == sorted([taken.pk, free.pk])
