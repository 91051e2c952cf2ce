import pytest

from aicmo_site.roles import ANALYST, MARKETER
from automation.models import Journey
from automation.services import journey_enrol, journey_version_create, journeys_run_due
from automation.tests.factories import journey
from automation.tests.test_versions import V1, V2
from crm.models import Contact
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db


def test_the_list_searches_filters_and_asks_a_fixed_number_of_queries(as_role, django_assert_max_num_queries):
    client = as_role(MARKETER)
    for number in range(5):
        journey(name=f"Welcome {number}", active=number % 2 == 0)
    journey(name="Renewal", active=False)
    with django_assert_max_num_queries(12):
        page = client.get("/journeys/").content.decode()
    assert page.count('<tr data-status=') == 6
    assert "Renewal" not in client.get("/journeys/?q=welc").content.decode()
    assert client.get("/journeys/?status=draft").content.decode().count('data-status="draft"') == 3


def test_a_marketer_sees_the_flow_and_activates_then_pauses(as_role):
    client = as_role(MARKETER)
    trip = journey(active=False)
    page = client.get(f"/journeys/{trip.pk}/").content.decode()
    assert page.count("<li data-step=") == 3 and ">Activate</button>" in page and ">Pause</button>" not in page
    response = client.post(f"/journeys/{trip.pk}/activate/", follow=True)
    assert "is active" in response.content.decode()
    assert Journey.objects.get(pk=trip.pk).status == "active"
    assert ">Pause</button>" in client.get(f"/journeys/{trip.pk}/").content.decode()
    client.post(f"/journeys/{trip.pk}/pause/")
    assert Journey.objects.get(pk=trip.pk).status == "paused"


def test_an_analyst_sees_no_buttons_and_cannot_post(as_role):
    client = as_role(ANALYST)
    trip = journey(active=False)
    page = client.get(f"/journeys/{trip.pk}/").content.decode()
    assert "journey-steps" in page and "/activate/" not in page and "/archive/" not in page
    client.post(f"/journeys/{trip.pk}/activate/")
    assert Journey.objects.get(pk=trip.pk).status == "draft"


def test_the_journey_page_shows_the_version_and_contacts_on_each(as_role):
    trip = journey(steps=V1)
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[ContactFactory().pk, ContactFactory().pk]),
                  source="test")
    journeys_run_due()
    journey_version_create(journey=trip, steps=V2)
    client = as_role(MARKETER)
    html = client.get(f"/journeys/{trip.pk}/").content.decode()
    assert 'id="journey-version">2<' in html
    assert "<tr><td>1</td><td>2</td></tr>" in html
    moved = client.post(f"/journeys/{trip.pk}/migrate/", follow=True).content.decode()
    assert "2 contact(s) moved to version 2" in moved
    assert "<tr><td>2</td><td>2</td></tr>" in moved and "Move those on older" not in moved


def test_an_analyst_may_not_migrate(as_role):
    trip = journey(steps=V1)
    journey_version_create(journey=trip, steps=V2)
    assert as_role(ANALYST).post(f"/journeys/{trip.pk}/migrate/").status_code == 403
