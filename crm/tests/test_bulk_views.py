import pytest

from crm.choices import ConsentStatus, LifecycleStatus
from crm.models import Contact, EnrichmentRun, LifecycleTransition, Suppression
from crm.tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def marketer(client, make_user):
    client.force_login(make_user("mia", role="Marketer"))
    return client


@pytest.fixture
def people():
    vip = TagFactory(name="vip")
    return [ContactFactory(email=f"p{n}@acme.io", tags=[vip] if n < 3 else [], engagement_score=10 * n)
            for n in range(5)]


def bulk(client, **data):
    return client.post("/contacts/bulk/", {"next": "/contacts/?tag=vip", **data}, follow=True)


def test_list_shows_row_counts_and_only_the_actions_allowed(marketer, client, make_user, people):
    page = marketer.get("/contacts/?tag=vip").content.decode()
    assert "Showing 1–3 of 3 contacts" in page and "all 3 matching these filters" in page
    assert 'value="delete"' in page and 'value="add_tags"' in page
    assert 'type="checkbox" name="contact"' in page


@pytest.mark.parametrize("role", ["Analyst", "Approver"])
def test_readers_get_no_ticks_or_bulk_actions_but_keep_the_export_and_the_count(client, make_user, people, role):
    client.force_login(make_user("numbers", role=role))
    page = client.get("/contacts/?tag=vip").content.decode()
    assert "Showing 1–3 of 3 contacts" in page and "Export these contacts (CSV)" in page
    assert 'type="checkbox"' not in page and 'id="bulk"' not in page and 'name="action"' not in page
    assert "Enrich and verify" not in page and '<span class="visually-hidden">Select</span>' not in page


def test_tags_added_to_the_ticked_and_removed_from_all_matching(marketer, people):
    response = bulk(marketer, action="add_tags", scope="selected", contact=[people[3].pk, people[4].pk],
                    tags="webinar, vip")
    assert "4 tag links added." in response.content.decode()
    assert set(people[4].tags.values_list("name", flat=True)) == {"vip", "webinar"}
    response = bulk(marketer, action="remove_tags", scope="all", query="tag=vip&score_min=30", tags="vip")
    assert "2 tag links removed." in response.content.decode()
    assert list(Contact.objects.filter(tags__name="vip").order_by("pk")) == people[:3]


def test_lifecycle_moves_those_allowed_and_counts_the_rest(marketer, people, django_assert_max_num_queries):
    Contact.objects.filter(pk=people[0].pk).update(lifecycle_status=LifecycleStatus.CONVERTED)
    with django_assert_max_num_queries(30):
        response = bulk(marketer, action="lifecycle", scope="all", query="tag=vip", lifecycle="engaged")
    assert "2 moved to Engaged; 1 already there or not allowed from their stage." in response.content.decode()
    assert LifecycleTransition.objects.filter(to_status="engaged").count() == 2


def test_unsubscribe_asks_first_then_suppresses(marketer, people):
    ask = bulk(marketer, action="unsubscribe", scope="all", query="tag=vip")
    assert "Unsubscribe 3 contacts?" in ask.content.decode()
    assert not Suppression.objects.exists()
    done = bulk(marketer, action="unsubscribe", scope="all", query="tag=vip", confirmed="yes")
    assert "3 contacts unsubscribed." in done.content.decode()
    assert Contact.objects.filter(consent_status=ConsentStatus.UNSUBSCRIBED).count() == 3
    assert Suppression.objects.count() == 3


def test_delete_needs_the_right_and_a_confirmation(marketer, make_user, people):
    ask = bulk(marketer, action="delete", scope="selected", contact=[people[0].pk, people[1].pk])
    assert "Delete 2 contacts?" in ask.content.decode() and Contact.objects.count() == 5
    done = bulk(marketer, action="delete", scope="selected", contact=[people[0].pk, people[1].pk], confirmed="yes")
    assert "2 contacts deleted." in done.content.decode() and Contact.objects.count() == 3
    marketer.force_login(make_user("numbers", role="Analyst"))
    for action in ("delete", "add_tags"):
        refused = marketer.post("/contacts/bulk/", {"action": action, "scope": "selected", "tags": "x",
                                                    "contact": [people[2].pk], "confirmed": "yes"})
        assert refused.status_code == 403
    assert Contact.objects.count() == 3


def test_export_of_all_matching_and_problems_in_words(marketer, people):
    response = marketer.post("/contacts/bulk/", {"action": "export", "scope": "all", "query": "tag=vip"})
    rows = b"".join(response.streaming_content).decode().splitlines()
    assert len(rows) == 4 and "p0@acme.io" in rows[1]
    nothing = bulk(marketer, action="add_tags", scope="selected", tags="x")
    assert "Tick at least one contact, or choose all matching the filters." in nothing.content.decode()
    no_tags = bulk(marketer, action="add_tags", scope="all", query="tag=vip", tags=" , ")
    assert "Name the tags, separated by commas." in no_tags.content.decode()


def test_tag_editor_on_the_contact_page(marketer, people):
    page = marketer.get(f"/contacts/{people[0].pk}/").content.decode()
    assert 'id="tag-editor"' in page and 'aria-label="Remove the tag vip"' in page
    marketer.post("/contacts/bulk/", {"action": "add_tags", "scope": "selected", "contact": people[0].pk,
                                      "tags": "speaker", "next": f"/contacts/{people[0].pk}/"})
    marketer.post("/contacts/bulk/", {"action": "remove_tags", "scope": "selected", "contact": people[0].pk,
                                      "tags": "vip", "next": f"/contacts/{people[0].pk}/"})
    assert list(people[0].tags.values_list("name", flat=True)) == ["speaker"]


def test_enrich_the_ticked_or_all_matching_starts_one_run_on_them(marketer, people, enrichment_account,
                                                                  django_capture_on_commit_callbacks):
    assert '<option value="enrich">Enrich and verify</option>' in marketer.get("/contacts/").content.decode()
    with django_capture_on_commit_callbacks():
        ticked = bulk(marketer, action="enrich", scope="selected", contact=[people[3].pk, people[4].pk])
    first = EnrichmentRun.objects.get()
    assert ticked.redirect_chain[-1][0] == f"/contacts/enrichment/{first.pk}/"
    assert set(first.items.values_list("contact_id", flat=True)) == {people[3].pk, people[4].pk}
    with django_capture_on_commit_callbacks():
        bulk(marketer, action="enrich", scope="all", query="tag=vip&score_min=10")
    matching = EnrichmentRun.objects.latest("pk")
    assert matching.scope == {"filter": "tag=vip&score_min=10"} and matching.total == 2
    assert set(matching.items.values_list("contact_id", flat=True)) == {people[1].pk, people[2].pk}


def test_enrich_without_a_provider_says_why_and_an_analyst_may_not(marketer, make_user, people):
    refused = bulk(marketer, action="enrich", scope="all", query="tag=vip")
    assert "Enrichment cannot start:" in refused.content.decode() and not EnrichmentRun.objects.exists()
    marketer.force_login(make_user("numbers", role="Analyst"))
    forbidden = marketer.post("/contacts/bulk/", {"action": "enrich", "scope": "all", "query": "tag=vip"})
    assert forbidden.status_code == 403
