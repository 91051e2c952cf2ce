import pytest
from django.contrib.contenttypes.models import ContentType

from aicmo_site.models import StatusChange
from aicmo_site.roles import ANALYST, MARKETER
from automation.models import JourneyEnrolment
from automation.services import journeys_run_due
from automation.tests.factories import WELCOME_STEPS
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def create(client, **fields):
    return client.post("/api/journeys/", {"name": "Welcome", "steps": WELCOME_STEPS, **fields}, format="json")


def test_a_marketer_creates_activates_enrols_and_reads_stats(api_as, django_assert_max_num_queries):
    client = api_as(MARKETER)
    made = create(client)
    assert made.status_code == 201, made.json()
    body = made.json()
    assert body["status"] == "draft" and [s["key"] for s in body["steps"]] == ["tag", "pause", "done"]
    assert body["available_actions"] == ["activate", "archive"]
    url = f"/api/journeys/{body['id']}/"
    assert client.post(f"{url}enrol/", {"contact_ids": [1]}, format="json").status_code == 409
    assert client.post(f"{url}activate/").json()["available_actions"] == ["pause", "archive"]
    ann, bob = ContactFactory(), ContactFactory()
    assert client.post(f"{url}enrol/", {"contact_ids": [ann.pk, bob.pk, ann.pk]}, format="json").json() == {
        "enrolled": 2, "skipped": 0}
    assert client.post(f"{url}remove/", {"contact_id": bob.pk}, format="json").json() == {"removed": 1}
    journeys_run_due()
    with django_assert_max_num_queries(8):
        stats = client.get(f"{url}stats/").json()
    assert (stats["on_the_way"], stats["finished"], stats["left"]) == (0, 1, 1)
    assert [(s["key"], s["went_through"], s["on_step"]) for s in stats["steps"]] == [
        ("tag", 1, 0), ("pause", 1, 0), ("done", 1, 0)]
    assert [(s["reached"], s["conversion"]) for s in stats["steps"]] == [(2, 50.0), (1, 100.0), (1, None)]
    assert stats["steps"][0]["median_time"] is not None and stats["goal_reached"] == 0
    assert client.post(f"{url}pause/").json()["status"] == "paused"
    assert JourneyEnrolment.objects.count() == 2


def test_an_invalid_graph_is_400_with_a_field_error_per_step(api_as):
    client = api_as(MARKETER)
    broken = [{"key": "wait", "kind": "wait", "config": {"days": 1}}, {"key": "mail", "kind": "send_email"}]
    for response in (create(client, steps=broken), client.post("/api/journeys/validate/", {"steps": broken},
                                                                 format="json")):
        assert response.status_code == 400
        assert set(response.json()["fields"]) >= {"steps[0].next", "steps[1].next", "steps[1].config"}
    assert client.post("/api/journeys/validate/", {"steps": WELCOME_STEPS}, format="json").json() == {"valid": True}
    bad_trigger = create(client, entry_triggers=[{"kind": "segment_entered", "segment_id": 999}])
    assert bad_trigger.status_code == 400 and "entry_triggers[0]" in bad_trigger.json()["fields"]


def test_the_list_asks_a_fixed_number_of_queries(api_as, django_assert_max_num_queries):
    client = api_as(MARKETER)
    for number in range(4):
        create(client, name=f"Journey {number}")
    with django_assert_max_num_queries(8):
        assert client.get("/api/journeys/").json()["count"] == 4


def test_an_analyst_reads_but_may_not_activate(api_as):
    journey_id = create(api_as(MARKETER)).json()["id"]
    analyst = api_as(ANALYST)
    assert analyst.get(f"/api/journeys/{journey_id}/").json()["available_actions"] == []
    assert analyst.post(f"/api/journeys/{journey_id}/activate/").status_code == 403
    assert analyst.post("/api/journeys/", {"name": "x", "steps": WELCOME_STEPS}, format="json").status_code == 403


def test_taking_a_contact_off_a_journey_is_recorded_with_who_did_it(api_as):
    client = api_as(MARKETER)
    url = f"/api/journeys/{create(client).json()['id']}/"
    client.post(f"{url}activate/")
    ann = ContactFactory()
    client.post(f"{url}enrol/", {"contact_ids": [ann.pk]}, format="json")
    enrolment = JourneyEnrolment.objects.get()

    assert api_as(ANALYST).post(f"{url}remove/", {"contact_id": ann.pk}, format="json").status_code == 403
    assert client.post(f"{url}remove/", {"contact_id": ann.pk}, format="json").json() == {"removed": 1}
    enrolment.refresh_from_db()
    assert (enrolment.status, enrolment.exit_reason, enrolment.due_at) == ("exited", "removed by hand", None)
    change = StatusChange.objects.get(content_type=ContentType.objects.get_for_model(JourneyEnrolment))
    assert (change.object_id, change.from_status, change.to_status, change.by, change.via, change.note) == (
        enrolment.pk, "active", "exited", client.user, "api", "removed by hand")

    assert client.post(f"{url}remove/", {"contact_id": ann.pk}, format="json").json() == {"removed": 0}
    assert StatusChange.objects.filter(content_type=change.content_type).count() == 1
