"""Topics of interest: the services that set them, their place on the timeline, the API and the admin."""

import pytest

from aicmo_site.errors import DomainError
from crm import services
from crm.choices import EventKind
from crm.models import Contact, EngagementEvent, Topic
from crm.privacy import contact_access_export
from crm.tests.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def ai():
    return services.topic_create(name="Artificial intelligence", description="Models, agents, tooling")


@pytest.fixture
def events():
    return services.topic_create(name="Events & webinars", slug="events")


@pytest.fixture
def internal():
    return services.topic_create(name="Key account", public=False)


def topic_notes(contact):
    return list(EngagementEvent.objects.filter(contact=contact, kind=EventKind.NOTE, source_kind="topics")
                .values_list("detail", flat=True))


def test_topic_create_makes_the_slug_from_the_name_and_refuses_a_clash(ai):
    assert ai.slug == "artificial-intelligence" and ai.public
    with pytest.raises(DomainError) as clash:
        services.topic_create(name="artificial INTELLIGENCE", slug="ai-2")
    assert clash.value.code == "topic_exists" and "name" in clash.value.extra["fields"]
    with pytest.raises(DomainError) as same_slug:
        services.topic_create(name="AI again", slug="artificial-intelligence")
    assert "slug" in same_slug.value.extra["fields"]
    with pytest.raises(DomainError):
        services.topic_create(name="!!!")


def test_setting_topics_records_what_changed_on_the_timeline(ai, events, make_user):
    contact = ContactFactory()
    marketer = make_user("mia")
    services.contact_topics_set(contact=contact, topics=[ai, events], source="api", by=marketer)
    services.contact_topics_set(contact=contact, topics=[events], source="email:preferences")
    assert list(contact.topics.values_list("slug", flat=True)) == ["events"]
    assert topic_notes(contact) == [
        {"topics_added": [], "topics_removed": ["artificial-intelligence"], "source": "email:preferences", "by": ""},
        {"topics_added": ["artificial-intelligence", "events"], "topics_removed": [], "source": "api", "by": "mia"},
    ]


def test_setting_the_same_topics_again_records_nothing(ai):
    contact = ContactFactory()
    services.contact_topics_set(contact=contact, topics=[ai], source="api")
    services.contact_topics_set(contact=contact, topics=[ai], source="api")
    assert len(topic_notes(contact)) == 1


def test_the_preference_centre_changes_public_topics_only(ai, events, internal):
    contact = ContactFactory()
    services.contact_topics_set(contact=contact, topics=[ai, internal], source="admin")
    services.contact_topics_set(contact=contact, topics=[events], source="email:preferences", public_only=True)
    assert sorted(contact.topics.values_list("slug", flat=True)) == ["events", "key-account"]
    with pytest.raises(DomainError) as refused:
        services.contact_topics_set(contact=contact, topics=[internal], source="email:preferences", public_only=True)
    assert refused.value.code == "topic_not_public"


def test_topics_are_in_the_access_export_and_gone_after_erasure(ai, make_user):
    from crm.privacy import contact_erase

    contact = ContactFactory(email="ana@acme.example")
    services.contact_topics_set(contact=contact, topics=[ai], source="api")
    assert contact_access_export(contact)["topics"] == ["Artificial intelligence"]
    contact_erase(contact=contact, by=make_user("dpo"), confirm="ana@acme.example")
    assert not Contact.objects.get(pk=contact.pk).topics.exists()
    assert ai.contacts.count() == 0


@pytest.fixture
def marketer(api_as):
    return api_as("Marketer")


def test_topics_api_creates_lists_and_filters_by_public(marketer, internal):
    created = marketer.post("/api/topics/", {"name": "Product news", "description": "Releases"}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["slug"] == "product-news"
    public = marketer.get("/api/topics/?public=true").json()["results"]
    assert [t["slug"] for t in public] == ["product-news"]
    changed = marketer.patch(f"/api/topics/{created.json()['id']}/", {"public": False}, format="json")
    assert changed.status_code == 200 and Topic.objects.get(slug="product-news").public is False


def test_topics_api_field_errors_are_400(marketer, ai):
    missing = marketer.post("/api/topics/", {"description": "no name"}, format="json")
    assert missing.status_code == 400 and "name" in missing.json()["fields"]
    clash = marketer.post("/api/topics/", {"name": "Artificial Intelligence"}, format="json")
    assert clash.status_code == 400 and clash.json()["code"] == "topic_exists"
    bad_slug = marketer.post("/api/topics/", {"name": "Other", "slug": "not a slug!"}, format="json")
    assert bad_slug.status_code == 400 and "slug" in bad_slug.json()["fields"]


def test_analyst_reads_topics_but_cannot_change_them(api_as, ai):
    analyst = api_as("Analyst")
    assert analyst.get("/api/topics/").status_code == 200
    assert analyst.post("/api/topics/", {"name": "Nope"}, format="json").status_code == 403


def test_contact_api_reads_and_writes_topics_through_the_service(marketer, ai, events):
    created = marketer.post("/api/contacts/", {"email": "zoe@example.com", "topics": ["events"]}, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["topics"] == ["events"]
    pk = created.json()["id"]
    updated = marketer.patch(f"/api/contacts/{pk}/", {"topics": ["artificial-intelligence", "events"]},
                             format="json")
    assert updated.status_code == 200 and sorted(updated.json()["topics"]) == ["artificial-intelligence", "events"]
    assert marketer.get(f"/api/contacts/{pk}/").json()["topics"] == ["artificial-intelligence", "events"]
    untouched = marketer.patch(f"/api/contacts/{pk}/", {"city": "Lyon"}, format="json")
    assert sorted(untouched.json()["topics"]) == ["artificial-intelligence", "events"]
    notes = topic_notes(Contact.objects.get(pk=pk))
    assert [n["topics_added"] for n in notes] == [["artificial-intelligence"], ["events"]]
    assert {n["source"] for n in notes} == {"api"} and {n["by"] for n in notes} == {marketer.user.get_username()}


def test_contact_api_refuses_an_unknown_topic_with_a_field_error(marketer):
    contact = ContactFactory()
    answer = marketer.patch(f"/api/contacts/{contact.pk}/", {"topics": ["no-such-topic"]}, format="json")
    assert answer.status_code == 400 and "topics" in answer.json()["fields"]
    assert not contact.topics.exists()


def test_contact_list_shows_topics_without_a_query_per_contact(marketer, ai, events, django_assert_num_queries):
    for _ in range(3):
        services.contact_topics_set(contact=ContactFactory(company=CompanyFactory()), topics=[ai, events],
                                    source="api")
    marketer.get("/api/contacts/")
    with django_assert_num_queries(2):  # permissions cached: count, page with company, tags and topics
        first = marketer.get("/api/contacts/")
    for _ in range(10):
        services.contact_topics_set(contact=ContactFactory(), topics=[ai], source="api")
    with django_assert_num_queries(2):
        later = marketer.get("/api/contacts/")
    assert first.json()["count"] == 3 and later.json()["count"] == 13
    assert sorted(first.json()["results"][0]["topics"]) == ["artificial-intelligence", "events"]


def test_admin_topic_and_contact_topics_go_through_the_services(client, make_user, ai):
    admin_user = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(admin_user)
    answer = client.post("/admin/crm/topic/add/", {"name": "Case studies", "slug": "case-studies",
                                                   "description": "", "public": "on"})
    assert answer.status_code == 302 and Topic.objects.filter(slug="case-studies").exists()
    contact = ContactFactory(email="ivy@example.com")
    form = {"email": contact.email, "first_name": "Ivy", "last_name": "", "job_title": "", "phone": "",
            "company": "", "linkedin_url": "", "city": "", "country": "", "source": "", "tags": [],
            "topics": [ai.pk], "custom_fields": "{}"}
    answer = client.post(f"/admin/crm/contact/{contact.pk}/change/", form)
    assert answer.status_code == 302, answer.content[:2000]
    assert list(contact.topics.all()) == [ai]
    assert topic_notes(contact)[0]["source"] == "admin"


def test_a_contact_created_through_the_api_is_kept_only_with_its_topics(marketer, ai, monkeypatch):
    def refuse(**kwargs):
        raise DomainError("The topics could not be saved.", code="topics_refused")

    monkeypatch.setattr(services, "contact_topics_set", refuse)
    answer = marketer.post("/api/contacts/", {"email": "lea@client.example", "topics": [ai.slug]}, format="json")
    assert answer.status_code == 400 and answer.json()["code"] == "topics_refused"
    assert not Contact.objects.filter(email="lea@client.example").exists()
