import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import EngagementEvent, EnrichmentRun, LifecycleTransition, Segment
from crm.tests.factories import CompanyFactory, ContactFactory, EnrichmentRunFactory, SegmentFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    return client


def page_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


def test_contact_list_filters_sorts_and_keeps_its_query_count(marketer, django_assert_num_queries):
    vip = TagFactory(name="vip")
    ContactFactory(email="ann@acme.io", tags=[vip], company=CompanyFactory(name="Acme"), engagement_score=80)
    ContactFactory(email="bob@acme.io", engagement_score=10)
    SegmentFactory(name="Warm")
    url = "/contacts/?tag=vip&score_min=50&ordering=-engagement_score"
    response = marketer.get(url)
    assert b"ann@acme.io" in response.content and b"bob@acme.io" not in response.content
    assert b"Warm" in response.content
    few = page_queries(marketer, url)
    # session, user, permissions (2), the capped count, the page with company and tag names in each row,
    # the segments and tags of the filter form, the list names of "Add to list": no query per contact and
    # none for tags apart
    assert few == 9
    for index in range(10):
        ContactFactory(tags=[vip, TagFactory(name=f"t{index}")], company=CompanyFactory(name=f"Co {index}"),
                       engagement_score=90)
    with django_assert_num_queries(few):
        page = marketer.get(url)
    assert b"Co 9" in page.content and b'<span class="badge">t9</span> <span class="badge">vip</span>' in page.content


def test_contact_list_empty_state_and_bad_filter(marketer):
    response = marketer.get("/contacts/?lifecycle_status=sleeping")
    assert b"No contacts match" in response.content and b"lifecycle_status" in response.content


def test_contact_list_on_an_empty_installation_points_to_the_import_not_to_clearing_filters(marketer):
    page = marketer.get("/contacts/").content.decode()
    assert "No contacts yet" in page and 'href="/contacts/imports/">import a CSV file</a>' in page
    assert "Clear the filters" not in page


def test_contact_page_shows_timeline_and_moves_lifecycle(marketer):
    contact = ContactFactory(email="ann@acme.io")
    marketer.post(f"/contacts/{contact.pk}/note/", {"text": "Met at the fair"})
    assert EngagementEvent.objects.get(contact=contact).detail["text"] == "Met at the fair"
    marketer.post(f"/contacts/{contact.pk}/transition/", {"to": "enriched", "reason": "checked"})
    assert LifecycleTransition.objects.get(contact=contact).to_status == "enriched"
    page = marketer.get(f"/contacts/{contact.pk}/")
    assert b"Met at the fair" in page.content and b"New \xe2\x86\x92 Enriched" in page.content
    refused = marketer.post(f"/contacts/{contact.pk}/transition/", {"to": "new"}, follow=True)
    assert b"cannot move from Enriched to New" in refused.content


def test_enrich_buttons_start_a_run_and_show_its_page(marketer, django_capture_on_commit_callbacks,
                                                     enrichment_account):
    contact = ContactFactory()
    with django_capture_on_commit_callbacks():
        response = marketer.post("/contacts/enrich/", {"contact": [contact.pk]}, follow=True)
    run = EnrichmentRun.objects.get()
    assert response.redirect_chain[-1][0] == f"/contacts/enrichment/{run.pk}/"
    assert b"progressbar" in response.content
    assert marketer.get("/contacts/enrichment/").status_code == 200


def test_segment_editor_saves_valid_rules_and_shows_errors(marketer):
    rules = '{"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]}'
    marketer.post("/contacts/segments/new/", {"name": "VIPs", "rules": rules})
    segment = Segment.objects.get(name="VIPs")
    bad = marketer.post(f"/contacts/segments/{segment.pk}/", {"name": "VIPs", "rules": '{"op": "xor", "rules": []}'})
    assert "The rules, all or any: must be" in bad.content.decode() and b"rules.op" not in bad.content
    assert marketer.get("/contacts/segments/?q=vip").status_code == 200
    marketer.post(f"/contacts/segments/{segment.pk}/delete/")
    assert not Segment.objects.exists()


def test_segment_editor_sets_and_clears_a_reading_grade(marketer):
    rules = '{"op": "and", "rules": []}'
    marketer.post("/contacts/segments/new/", {"name": "Newcomers", "rules": rules, "reading_grade": "6"})
    segment = Segment.objects.get(name="Newcomers")
    assert segment.reading_grade == 6
    page = marketer.get(f"/contacts/segments/{segment.pk}/").content.decode()
    assert 'name="reading_grade"' in page and 'value="6"' in page
    too_hard = marketer.post(f"/contacts/segments/{segment.pk}/", {"name": "Newcomers", "rules": rules,
                                                                   "reading_grade": "30"})
    assert "less than or equal to 18" in too_hard.content.decode()
    marketer.post(f"/contacts/segments/{segment.pk}/", {"name": "Newcomers", "rules": rules, "reading_grade": ""})
    segment.refresh_from_db()
    assert segment.reading_grade is None


def test_analyst_reads_pages_but_cannot_post(client, make_user):
    client.force_login(make_user("ana", role="Analyst"))
    contact = ContactFactory()
    EnrichmentRunFactory()
    assert client.get("/contacts/").status_code == 200
    assert client.get(f"/contacts/{contact.pk}/").status_code == 200
    assert client.post(f"/contacts/{contact.pk}/transition/", {"to": "enriched"}).status_code == 403
    assert client.post("/contacts/enrich/", {}).status_code == 403


def test_contact_list_counts_only_as_far_as_needed_and_still_pages_on(marketer, monkeypatch):
    from crm import views
    from crm.api.pagination import CappedCountPaginator

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    monkeypatch.setattr(CappedCountPaginator, "count_at_most", 3)
    ContactFactory.create_batch(7)

    first = marketer.get("/contacts/").content.decode()
    assert "Page 1 of 2+ · 3+ in all" in first
    last_counted = marketer.get("/contacts/?page=2").content.decode()
    assert "page=3" in last_counted  # more exist beyond the count: Next is still offered
    fourth = marketer.get("/contacts/?page=4").content.decode()
    assert "Page 4 of 4 · 7 in all" in fourth and "Next →" not in fourth


def test_segment_editor_offers_the_rule_builder_over_the_json_box(marketer):
    TagFactory(name="vip")
    page = marketer.get("/contacts/segments/new/").content.decode()
    # Without the script the JSON box is the editor: it is the form's field and starts unfolded.
    assert '<details id="rules-json" open>' in page and 'name="rules"' in page
    assert '<option value="vip">' in page  # tag names offered as you type
    builder = json.loads(page.split('<script id="segment-builder" type="application/json">')[1].split("</script>")[0])
    fields = {field["field"]: field for field in builder["fields"]}
    assert [op["value"] for op in fields["event"]["operators"]] == ["event", "event", "event_kind", "event_kind"]
    assert {"value": "engaged", "label": "Engaged"} in fields["lifecycle_status"]["choices"]


def test_a_segments_members_page_lists_them_from_its_compiled_statements(marketer, monkeypatch):
    from crm import selectors

    monkeypatch.setattr(selectors, "_PREPARED", {})
    vip = TagFactory(name="vip")
    members = [ContactFactory(email=f"m{index}@acme.io", tags=[vip], company=CompanyFactory(name=f"Co {index}"))
               for index in range(3)]
    ContactFactory(email="other@acme.io")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "tags", "operator": "any", "value": ["vip"]}]})
    few = page_queries(marketer, f"/contacts/?segment={segment.pk}")
    page = marketer.get(f"/contacts/?segment={segment.pk}")
    assert page.context["page"].paginator.count == 3
    assert [c.pk for c in page.context["page"].object_list] == [c.pk for c in reversed(members)]
    assert b"Co 2" in page.content and b"other@acme.io" not in page.content
    assert len(selectors._PREPARED) == 2  # the count and the page, kept for the next request
    assert page_queries(marketer, f"/contacts/?segment={segment.pk}&search=m1") == few
    assert len(selectors._PREPARED) == 2  # another filter beside the segment goes through the filters
    assert [c.email for c in marketer.get(f"/contacts/?segment={segment.pk}&search=m1").context["page"]] == [
        "m1@acme.io"]


def test_contact_page_shows_the_time_zone_or_the_teams(marketer, settings):
    settings.TIME_ZONE = "Europe/Lisbon"
    zoned, plain = ContactFactory(time_zone="Asia/Tokyo"), ContactFactory()
    assert 'id="contact-time-zone">Asia/Tokyo<' in marketer.get(f"/contacts/{zoned.pk}/").content.decode()
    assert "the team's (Europe/Lisbon)" in marketer.get(f"/contacts/{plain.pk}/").content.decode()
