"""The journeys pages in Chromium, at a laptop's width and a phone's: the flow with its counts, the
actions the marketer may take, archive behind a confirmation; no axe-core violation, nothing wider
than the screen."""

import pytest

from automation.models import Journey
from automation.tests.factories import journey
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_marketer_activates_and_archives_a_journey_from_its_page(live_server, browser, make_user, viewport):
    make_user("mia", role="Marketer", password=PASSWORD)
    trip = journey(active=False, name="Welcome series with a rather long name for a phone screen")
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "mia", "/journeys/")
        assert axe_violations(page) == [] and horizontal_overflow(page) == 0
        page.click(f"text={trip.name}")
        page.wait_for_selector("#journey-steps")
        assert axe_violations(page) == [] and horizontal_overflow(page) == 0
        page.click("button[value=activate]")
        page.wait_for_selector("text=is active")
        assert page.inner_text("#journey-status") == "Active"
        page.once("dialog", lambda dialog: dialog.dismiss())
        page.click("button[value=archive]")
        assert Journey.objects.get(pk=trip.pk).status == "active"
        page.once("dialog", lambda dialog: dialog.accept())
        page.click("button[value=archive]")
        page.wait_for_selector("text=is archived")
        assert Journey.objects.get(pk=trip.pk).status == "archived"
        assert axe_violations(page) == [] and horizontal_overflow(page) == 0
    finally:
        context.close()
