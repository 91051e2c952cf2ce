"""The "gets a tag" entry trigger: whatever adds the tag (a page, the API, a bulk action, an import, a
journey's step) enrols the contacts that did not have it, in the tagging transaction."""

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from automation.choices import ReEntry
from automation.models import JourneyEnrolment
from automation.services import journey_pause, journeys_run_due
from automation.tests.factories import journey
from crm.imports import import_run_create, import_run_start
from crm.models import Contact
from crm.services import contacts_tag, contacts_untag
from crm.tagging import tags_watched_among
from crm.tests.factories import ContactFactory, TagFactory

pytestmark = pytest.mark.django_db
ON_VIP = [{"kind": "tag_added", "tag": "vip"}]
WAITING = [{"key": "pause", "kind": "wait", "config": {"days": 1}, "next": "end"}, {"key": "end", "kind": "exit"}]


def enrolled(trip) -> list[int]:
    return sorted(JourneyEnrolment.objects.filter(journey=trip).values_list("contact_id", flat=True))


def test_getting_the_tag_enrols_but_having_it_already_does_not():
    old_vip, ann, bob = ContactFactory(), ContactFactory(), ContactFactory()
    contacts_tag(contacts=[old_vip], tag_names=["vip"])
    trip = journey(entry_triggers=ON_VIP)
    other = journey(name="Other tag", entry_triggers=[{"kind": "tag_added", "tag": "speaker"}])
    contacts_tag(contacts=[old_vip, ann], tag_names=["vip", "press"])
    assert enrolled(trip) == [ann.pk]
    assert enrolled(other) == [] and bob.pk not in enrolled(trip)
    assert JourneyEnrolment.objects.get(journey=trip).source == "tag:vip"


def test_the_reentry_rule_holds_when_the_tag_comes_back():
    ann = ContactFactory()
    once = journey(entry_triggers=ON_VIP, steps=WAITING)
    every = journey(name="Every time", entry_triggers=ON_VIP, steps=WAITING, reentry=ReEntry.EVERY_TIME)
    for _ in range(2):
        contacts_tag(contacts=[ann], tag_names=["vip"])
        contacts_untag(contacts=[ann], tag_names=["vip"])
    assert enrolled(once) == [ann.pk]
    assert enrolled(every) == [ann.pk, ann.pk]


def test_a_paused_journey_enrols_no_one():
    trip = journey(entry_triggers=ON_VIP)
    journey_pause(journey=trip)
    contacts_tag(contacts=[ContactFactory()], tag_names=["vip"])
    assert enrolled(trip) == []


@pytest.mark.parametrize("trigger", [{"kind": "tag_added"}, {"kind": "tag_added", "tag": "  "}])
def test_a_tag_trigger_names_its_tag(trigger):
    with pytest.raises(ValidationError) as raised:
        journey(entry_triggers=[trigger])
    assert "Name the tag" in str(raised.value)


def test_bulk_tagging_enrols_in_the_same_number_of_statements_however_many_contacts():
    trip = journey(entry_triggers=ON_VIP)
    TagFactory(name="vip")

    def statements(count: int) -> int:
        ContactFactory.create_batch(count)
        with CaptureQueriesContext(connection) as captured:
            contacts_tag(contacts=Contact.objects.exclude(tags__name="vip"), tag_names=["vip"])
        return len(captured)

    assert statements(2) == statements(40)
    assert len(enrolled(trip)) == 42


def test_the_api_bulk_tag_enrols(api_as):
    trip = journey(entry_triggers=ON_VIP)
    ann = ContactFactory()
    answer = api_as("Marketer").post("/api/contacts/bulk-tag/", {"contact_ids": [ann.pk], "tags": ["vip"]},
                                     format="json")
    assert answer.status_code == 200, answer.content
    assert enrolled(trip) == [ann.pk]


def test_the_bulk_action_page_enrols(client, make_user):
    trip = journey(entry_triggers=ON_VIP)
    ann = ContactFactory()
    client.force_login(make_user("marketer", role="Marketer"))
    client.post("/contacts/bulk/", {"action": "add_tags", "scope": "selected", "contact": ann.pk, "tags": "vip",
                                    "next": "/contacts/"})
    assert enrolled(trip) == [ann.pk]


def test_an_import_enrols_created_and_stored_contacts_that_get_the_tag():
    stored, tagged = ContactFactory(email="stored@example.com"), ContactFactory(email="tagged@example.com")
    contacts_tag(contacts=[tagged], tag_names=["vip"])
    trip = journey(entry_triggers=ON_VIP)
    content = "email,tags\nnew@example.com,vip\nstored@example.com,vip\ntagged@example.com,vip\nplain@example.com,\n"
    run = import_run_start(run=import_run_create(upload=ContentFile(content.encode(), name="c.csv")),
                           background=False)
    assert run.created_count == 2
    assert enrolled(trip) == sorted([stored.pk, Contact.objects.get(email="new@example.com").pk])


def test_an_import_announces_only_the_tags_an_active_journey_starts_on():
    journey(entry_triggers=ON_VIP)
    journey_pause(journey=journey(name="Paused", entry_triggers=[{"kind": "tag_added", "tag": "press"}]))
    assert tags_watched_among(["press", "vip", "webinar"]) == ["vip"]
    assert tags_watched_among([]) == []


def test_an_import_tag_for_every_row_enrols_them_all():
    trip = journey(entry_triggers=ON_VIP)
    content = "email\na@example.com\nb@example.com\n"
    import_run_start(run=import_run_create(upload=ContentFile(content.encode(), name="c.csv"), tag="vip"),
                     background=False)
    assert len(enrolled(trip)) == 2


def test_a_journey_step_adding_the_tag_enrols_in_the_journey_starting_on_it():
    first = journey(name="First", steps=[{"key": "tag", "kind": "add_tag", "config": {"tag": "vip"}, "next": "end"},
                                         {"key": "end", "kind": "exit"}])
    trip = journey(entry_triggers=ON_VIP, steps=WAITING)
    ann = ContactFactory()
    from automation.services import journey_enrol

    journey_enrol(journey=first, contacts=Contact.objects.filter(pk=ann.pk), source="api")
    journeys_run_due()
    assert enrolled(trip) == [ann.pk]
