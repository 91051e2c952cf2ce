"""The builder page: a journey created and changed by its form, the graph's checks shown beside the
step they are about, steps added, moved and removed without saving; test mode started from the page."""

import pytest

from aicmo_site.roles import ANALYST, MARKETER
from automation.choices import STEP_SETTINGS, StepKind
from automation.models import Journey, JourneyEnrolment
from automation.services import journey_archive, journey_enrol, journeys_run_due
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory, SegmentFactory
from publishing.tests.email.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db


def posted(rows, **journey_fields):
    data = {"name": "Welcome", "reentry": "once_ever", "trigger": "manual", "step_count": str(len(rows)),
            "op": "save", **journey_fields}
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"step-{index}-{name}"] = value
    return data


def test_every_step_kind_declares_its_settings():
    assert set(STEP_SETTINGS) == set(StepKind.values)


def test_a_marketer_builds_a_journey_with_a_segment_trigger_condition_and_email(as_role):
    client = as_role(MARKETER)
    segment, template = SegmentFactory(name="Lyon"), EmailTemplateFactory(name="Welcome mail")
    page = client.get("/journeys/new/").content.decode()
    assert "Welcome mail" in page and ">Lyon</option>" in page
    response = client.post("/journeys/new/", posted([
        {"key": "hello", "kind": "send_email", "template_id": str(template.pk), "next": "pause"},
        {"key": "pause", "kind": "wait", "days": "2", "next": "clicked"},
        {"key": "clicked", "kind": "condition", "ask": "clicked_last_email", "tag": "ignored", "next": "tag",
         "other": "end"},
        {"key": "tag", "kind": "add_tag", "tag": "warm", "next": "end"},
        {"key": "end", "kind": "exit"},
    ], trigger="segment_entered", trigger_segment=str(segment.pk), exit_triggers=["unsubscribed"],
        goal_kind="tag", goal_tag="customer"))
    trip = Journey.objects.get(name="Welcome")
    assert response.status_code == 302 and response.url == f"/journeys/{trip.pk}/"
    assert trip.entry_triggers == [{"kind": "segment_entered", "segment_id": segment.pk}]
    assert (trip.exit_triggers, trip.goal) == (["unsubscribed"], {"tag": "customer"})
    assert [(s.key, s.config, s.next, s.other) for s in trip.steps.all()] == [
        ("hello", {"template_id": template.pk}, "pause", ""), ("pause", {"days": 2}, "clicked", ""),
        ("clicked", {"clicked_last_email": True}, "tag", "end"), ("tag", {"tag": "warm"}, "end", ""),
        ("end", {}, "", "")]
    again = client.get(f"/journeys/{trip.pk}/edit/").content.decode()
    assert 'value="clicked_last_email" selected' in again and f'value="{template.pk}" selected' in again


def test_errors_are_shown_beside_their_step_and_nothing_is_saved(as_role):
    client = as_role(MARKETER)
    response = client.post("/journeys/new/", posted([
        {"key": "hello", "kind": "send_email", "next": "pause"},
        {"key": "pause", "kind": "wait", "hours": "1"},
        {"key": "end", "kind": "exit"},
    ]))
    page = response.content.decode()
    assert response.status_code == 400 and not Journey.objects.exists()
    assert "Settings: An email step needs an email template." in page
    assert "Then: A wait needs a step to go on to." in page
    assert page.count('data-invalid="true"') == 2


def test_an_unreachable_step_and_a_loop_without_a_wait_are_named(as_role):
    client = as_role(MARKETER)
    page = client.post("/journeys/new/", posted([
        {"key": "a", "kind": "add_tag", "tag": "x", "next": "b"},
        {"key": "b", "kind": "add_tag", "tag": "y", "next": "a"},
        {"key": "lost", "kind": "exit"},
    ])).content.decode()
    assert "Name: No step leads here." in page
    page = client.post("/journeys/new/", posted([
        {"key": "a", "kind": "add_tag", "tag": "x", "next": "b"},
        {"key": "b", "kind": "add_tag", "tag": "y", "next": "a"},
    ])).content.decode()
    assert "This step is on a loop with no wait in it." in page


def test_adding_moving_and_removing_steps_re_renders_without_saving(as_role):
    client = as_role(MARKETER)
    rows = [{"key": "tag", "kind": "add_tag", "tag": "x"}]
    page = client.post("/journeys/new/", {**posted(rows), "op": "add"}).content.decode()
    assert 'name="step-1-key" value="step-2"' in page and 'value="step-2" selected' in page
    page = client.post("/journeys/new/", {**posted(rows + [{"key": "end", "kind": "exit"}]), "op": "up-1"}).content
    assert 'name="step-0-key" value="end"' in page.decode() and 'name="step-1-key" value="tag"' in page.decode()
    page = client.post("/journeys/new/", {**posted(rows + [{"key": "end", "kind": "exit"}]), "op": "remove-0"})
    assert 'name="step-0-key" value="end"' in page.content.decode() and not Journey.objects.exists()


def test_an_archived_journey_is_not_changed_and_an_analyst_may_not_build(as_role):
    trip = journey(active=True)
    journey_archive(journey=trip)
    client = as_role(MARKETER)
    assert client.get(f"/journeys/{trip.pk}/edit/").status_code == 302
    assert as_role(ANALYST).get("/journeys/new/").status_code == 403


TWO_STEPS = [{"key": "tag", "kind": "add_tag", "tag": "welcomed", "next": "pause"},
             {"key": "pause", "kind": "wait", "days": "1", "next": "end"}, {"key": "end", "kind": "exit"}]


def live_with_one_on_the_way():
    trip = journey(steps=[{"key": "pause", "kind": "wait", "config": {"days": 1}, "next": "end"},
                          {"key": "end", "kind": "exit"}])
    ann = ContactFactory()
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=ann.pk), source="test")
    journeys_run_due()
    return trip, ann


def test_editing_a_live_journey_saves_a_new_version_for_new_entrants(as_role):
    trip, ann = live_with_one_on_the_way()
    client = as_role(MARKETER)
    page = client.get(f"/journeys/{trip.pk}/edit/").content.decode()
    assert "saved as <strong>version 2</strong>" in page and "Save as version 2" in page
    assert 'name="step-0-key" value="pause"' in page
    answer = client.post(f"/journeys/{trip.pk}/edit/", posted(TWO_STEPS), follow=True)
    trip.refresh_from_db()
    assert trip.version == 2 and trip.status == "active"
    assert [s.key for s in trip.steps.filter(version=2)] == ["tag", "pause", "end"]
    assert "saved as version 2, which new entrants start on. Contacts already on the way stay" in (
        answer.content.decode())
    assert JourneyEnrolment.objects.get(contact=ann).step.version == 1
    bob = ContactFactory()
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk=bob.pk), source="test")
    assert JourneyEnrolment.objects.get(contact=bob).step.version == 2


def test_editing_a_live_journey_may_move_those_on_the_way_whose_step_remains(as_role):
    trip, ann = live_with_one_on_the_way()
    answer = as_role(MARKETER).post(f"/journeys/{trip.pk}/edit/", {**posted(TWO_STEPS), "migrate": "1"},
                                    follow=True)
    assert "1 contact(s) on the way moved to it" in answer.content.decode()
    step = JourneyEnrolment.objects.get(contact=ann).step  # waiting to go on to "end", which remains
    assert (step.version, step.key) == (2, "end")


def test_a_faulty_new_version_is_not_saved_and_the_errors_are_shown(as_role):
    trip = journey()
    answer = as_role(MARKETER).post(f"/journeys/{trip.pk}/edit/", posted([
        {"key": "tag", "kind": "add_tag", "tag": "x", "next": "nowhere"}]))
    assert answer.status_code == 400 and "The journey was not saved" in answer.content.decode()
    trip.refresh_from_db()
    assert trip.version == 1


def test_test_mode_is_started_for_a_contact_found_by_search(as_role, django_capture_on_commit_callbacks):
    client = as_role(MARKETER)
    trip = journey()
    ann = ContactFactory(email="ann.tester@example.com")
    page = client.get(f"/journeys/{trip.pk}/?test_q=ann.tester").content.decode()
    assert f'name="contact" value="{ann.pk}"' in page
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(f"/journeys/{trip.pk}/test/", {"contact": ann.pk}, follow=True)
    assert len(callbacks) == 1
    assert "Test run started for ann.tester@example.com" in response.content.decode()
    assert JourneyEnrolment.objects.get(journey=trip, contact=ann).is_test
    assert 'hx-trigger="every 2s"' in client.get(f"/journeys/{trip.pk}/test-runs/").content.decode()
    assert "Choose the contact" in client.post(f"/journeys/{trip.pk}/test/", {"contact": ""},
                                               follow=True).content.decode()


def test_the_journey_page_asks_a_fixed_number_of_queries(as_role, django_assert_max_num_queries):
    client = as_role(MARKETER)
    trip = journey()
    with django_assert_max_num_queries(20) as before:
        client.get(f"/journeys/{trip.pk}/")
    for _ in range(3):
        ContactFactory()
    from automation.services import journey_enrol, journeys_run_due
    from crm.models import Contact

    journey_enrol(journey=trip, contacts=Contact.objects.all(), source="api")
    journeys_run_due()
    with django_assert_max_num_queries(len(before.captured_queries)):
        client.get(f"/journeys/{trip.pk}/")


def test_a_change_keeps_the_entry_triggers_the_form_does_not_show(as_role):
    client = as_role(MARKETER)
    trip = journey(active=False, entry_triggers=[{"kind": "event", "event_kind": "clicked"},
                                                 {"kind": "event", "event_kind": "opened"}])
    assert "1 more entry trigger," in client.get(f"/journeys/{trip.pk}/edit/").content.decode()
    response = client.post(f"/journeys/{trip.pk}/edit/", posted(
        [{"key": "tag", "kind": "add_tag", "tag": "x", "next": "end"}, {"key": "end", "kind": "exit"}],
        trigger="event", trigger_event="form_submit"))
    assert response.status_code == 302
    trip.refresh_from_db()
    assert trip.entry_triggers == [{"kind": "event", "event_kind": "form_submit"},
                                   {"kind": "event", "event_kind": "opened"}]
