import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from aicmo_site.models import StatusChange
from crm.models import Contact, EngagementEvent, EnrichmentRun, Segment, Suppression
from crm.tests.factories import CompanyFactory, ContactFactory, EngagementEventFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(api_as):
    return api_as("Marketer")


def queries_for(client, url):
    """Queries of one page, once the user's permissions are cached (the first request loads them)."""
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, response.data
    return len(captured)


def test_contact_list_uses_a_fixed_number_of_queries_per_page(marketer, django_assert_num_queries):
    vip, team = TagFactory(name="vip"), TagFactory(name="team")
    for n in range(3):
        ContactFactory(company=CompanyFactory(), tags=[vip, team], engagement_score=60 + n)
    url = "/api/contacts/?tag=vip&score_min=50"
    few = queries_for(marketer, url)
    assert few == 2  # the capped count, then the page with its company, tag names and topic slugs
    for _ in range(20):
        ContactFactory(company=CompanyFactory(), tags=[vip, team], engagement_score=70)
    with django_assert_num_queries(few):
        response = marketer.get(url)
    assert response.data["count"] == 23
    assert sorted(response.data["results"][0]["tags"]) == ["team", "vip"]


def test_contact_filters_and_search(marketer):
    acme = CompanyFactory(name="Acme Rockets", domain="acme.io")
    ContactFactory(email="ann@acme.io", company=acme, lifecycle_status="engaged", engagement_tier="high")
    ContactFactory(email="bob@other.org", email_status="invalid")
    assert [c["email"] for c in marketer.get("/api/contacts/?search=rockets").data["results"]] == ["ann@acme.io"]
    assert marketer.get("/api/contacts/?domain=other.org&email_status=invalid").data["count"] == 1
    assert marketer.get("/api/contacts/?lifecycle_status=engaged&engagement_tier=high").data["count"] == 1
    assert marketer.get("/api/contacts/?ordering=-email").data["results"][0]["email"] == "bob@other.org"
    bad = marketer.get("/api/contacts/?lifecycle_status=sleeping")
    assert bad.status_code == 400 and "lifecycle_status" in bad.data["fields"]


def test_create_update_and_errors(marketer):
    created = marketer.post("/api/contacts/", {"email": "New@Acme.io", "first_name": "Nia", "new_tags": ["vip"]},
                            format="json")
    assert created.status_code == 201, created.data
    assert (created.data["email"], created.data["tags"]) == ("new@acme.io", ["vip"])
    duplicate = marketer.post("/api/contacts/", {"email": "NEW@acme.io"}, format="json")
    assert duplicate.status_code == 409 and duplicate.data["code"] == "duplicate_email"
    invalid = marketer.post("/api/contacts/", {"email": "nope"}, format="json")
    assert invalid.status_code == 400 and "email" in invalid.data["fields"]
    edited = marketer.patch(f"/api/contacts/{created.data['id']}/", {"job_title": "CMO"}, format="json")
    assert edited.data["field_sources"]["job_title"] == "manual"
    zoned = marketer.patch(f"/api/contacts/{created.data['id']}/", {"time_zone": "Europe/Paris"}, format="json")
    assert zoned.data["time_zone"] == "Europe/Paris"
    unknown = marketer.patch(f"/api/contacts/{created.data['id']}/", {"time_zone": "Mars/Olympus"}, format="json")
    assert unknown.status_code == 400 and "time_zone" in unknown.data["fields"]


def test_transition_action_and_its_refusal(marketer):
    contact = ContactFactory(lifecycle_status="converted")
    refused = marketer.post(f"/api/contacts/{contact.pk}/transition/", {"to": "new"}, format="json")
    assert refused.status_code == 400 and refused.data["code"] == "transition_not_allowed"
    moved = marketer.post(f"/api/contacts/{contact.pk}/transition/", {"to": "unsubscribed", "reason": "asked"},
                          format="json")
    assert moved.status_code == 200 and moved.data["lifecycle_status"] == "unsubscribed"


def test_bulk_tag_and_untag_by_ids_or_segment(marketer):
    one, two = ContactFactory(domain="a.io", email="x@a.io"), ContactFactory(email="y@b.io")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "domain", "operator": "in", "value": ["b.io"]}]})
    added = marketer.post("/api/contacts/bulk-tag/", {"contact_ids": [one.pk], "segment": segment.pk,
                                                      "tags": ["fair-2026"]}, format="json")
    assert added.data == {"added": 2}
    removed = marketer.post("/api/contacts/bulk-untag/", {"contact_ids": [two.pk], "tags": ["fair-2026"]},
                            format="json")
    assert removed.data == {"removed": 1}
    empty = marketer.post("/api/contacts/bulk-tag/", {"tags": ["x"]}, format="json")
    assert empty.status_code == 400


def test_events_list_post_and_timeline(marketer, django_assert_max_num_queries):
    contact = ContactFactory()
    EngagementEventFactory.create_batch(3, contact=contact, kind="sent")
    note = marketer.post(f"/api/contacts/{contact.pk}/events/", {"kind": "note", "detail": {"text": "Met at fair"}},
                         format="json")
    assert note.status_code == 201
    opened = marketer.post(f"/api/contacts/{contact.pk}/events/", {"kind": "opened", "channel": "email"},
                           format="json")
    assert opened.status_code == 201
    listed = marketer.get(f"/api/contacts/{contact.pk}/events/")
    assert listed.data["count"] == 5
    timeline = marketer.get(f"/api/contacts/{contact.pk}/timeline/").data
    assert {entry["type"] for entry in timeline} == {"event", "lifecycle"}
    bad = marketer.post(f"/api/contacts/{contact.pk}/events/", {"kind": "teleported"}, format="json")
    assert bad.status_code == 400 and "kind" in bad.data["fields"]


def test_analyst_reads_but_cannot_change(api_as):
    analyst = api_as("Analyst")
    contact = ContactFactory()
    assert analyst.get("/api/contacts/").status_code == 200
    assert analyst.post("/api/contacts/", {"email": "a@b.io"}, format="json").status_code == 403
    assert analyst.post(f"/api/contacts/{contact.pk}/transition/", {"to": "bounced"}, format="json").status_code == 403
    assert analyst.post("/api/segments/preview/", {"rules": {"op": "and", "rules": []}}, format="json").status_code \
        == 200


def test_segment_crud_members_count_and_preview(marketer, django_assert_num_queries):
    vip = TagFactory(name="vip")
    for _ in range(3):
        ContactFactory(tags=[vip], company=CompanyFactory())
    ContactFactory()
    rules = {"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]}
    created = marketer.post("/api/segments/", {"name": "VIPs", "rules": rules}, format="json")
    assert created.status_code == 201, created.data
    pk = created.data["id"]
    assert marketer.get(f"/api/segments/{pk}/count/").data == {"count": 3}
    few = queries_for(marketer, f"/api/segments/{pk}/members/")
    assert few == 3  # segment, count, the page with its company, tag names and topic slugs
    ContactFactory.create_batch(5, tags=[vip], company=CompanyFactory())
    with django_assert_num_queries(few):
        members = marketer.get(f"/api/segments/{pk}/members/")
    assert members.data["count"] == 8
    preview = marketer.post("/api/segments/preview/", {"rules": {"op": "or", "rules": []}}, format="json")
    assert preview.data == {"count": 9}
    invalid = marketer.post("/api/segments/preview/", {"rules": {"op": "and", "rules": [{"field": "x"}]}},
                            format="json")
    assert invalid.status_code == 400 and invalid.data["code"] == "invalid_rules"
    assert invalid.data["extra"]["errors"][0]["path"] == "rules.rules[0].field"
    assert marketer.post("/api/segments/", {"name": "VIPs", "rules": rules}, format="json").status_code == 409
    assert marketer.delete(f"/api/segments/{pk}/").status_code == 204
    assert not Segment.objects.exists()


def test_suppressions_add_list_remove(marketer):
    added = marketer.post("/api/suppressions/", {"value": "@Spam.example"}, format="json")
    assert added.status_code == 201 and (added.data["kind"], added.data["value"]) == ("domain", "spam.example")
    assert marketer.post("/api/suppressions/", {"value": "??"}, format="json").status_code == 400
    assert marketer.get("/api/suppressions/?kind=domain").data["count"] == 1
    assert marketer.delete(f"/api/suppressions/{added.data['id']}/").status_code == 204
    assert not Suppression.objects.exists()


def test_enrichment_runs_create_list_detail_and_cancel(marketer, django_capture_on_commit_callbacks,
                                                       enrichment_account):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        one = marketer.post(f"/api/contacts/{contact.pk}/enrich/")
    assert one.status_code == 202 and one.data["total"] == 1 and len(callbacks) == 1
    bad = marketer.post("/api/enrichment-runs/", {"all_new": True, "contact_ids": [contact.pk]}, format="json")
    assert bad.status_code == 400
    ContactFactory()
    run = marketer.post("/api/enrichment-runs/", {"all_new": True}, format="json")
    assert run.status_code == 202 and run.data["total"] == 1  # the first contact already waits in a run
    listed = marketer.get("/api/enrichment-runs/")
    assert listed.data["count"] == 2
    detail = marketer.get(f"/api/enrichment-runs/{run.data['id']}/").data
    assert (detail["progress"], detail["status"]) == (0, "queued")
    canceled = marketer.post(f"/api/enrichment-runs/{run.data['id']}/cancel/")
    assert canceled.data["status"] == "canceled"
    assert EnrichmentRun.objects.filter(status="canceled").count() == 1
    change = StatusChange.objects.get(object_id=run.data["id"], to_status="canceled",
                                      content_type__model="enrichmentrun")
    assert (change.from_status, change.by) == ("queued", marketer.user)


def test_companies_crud_links_existing_people(marketer):
    contact = ContactFactory(email="a@globex.com")
    created = marketer.post("/api/companies/", {"domain": "Globex.com", "name": "Globex"}, format="json")
    assert created.status_code == 201, created.data
    assert Contact.objects.get(pk=contact.pk).company_id == created.data["id"]
    assert marketer.post("/api/companies/", {"domain": "globex.com"}, format="json").status_code == 409
    assert marketer.get("/api/companies/?search=glob").data["count"] == 1
    assert EngagementEvent.objects.count() == 0


LIST_FACTORIES = {
    "/api/companies/": lambda: CompanyFactory(),
    "/api/suppressions/": lambda: Suppression.objects.create(kind="email", value=f"x{Suppression.objects.count()}@a.io",
                                                             reason="manual"),
    "/api/segments/": lambda: SegmentFactory(),
    "/api/enrichment-runs/": lambda: EnrichmentRun.objects.create(scope={"all_new": True}),
}


@pytest.mark.parametrize("url", [*LIST_FACTORIES, "events"])
def test_other_lists_keep_a_fixed_number_of_queries(marketer, url, django_assert_num_queries):
    contact = ContactFactory()
    if url == "events":
        url = f"/api/contacts/{contact.pk}/events/"
        make = lambda: EngagementEventFactory(contact=contact)  # noqa: E731
    else:
        make = LIST_FACTORIES[url]
    make()
    few = queries_for(marketer, url)
    for _ in range(6):
        make()
    with django_assert_num_queries(few):
        assert marketer.get(url).status_code == 200
