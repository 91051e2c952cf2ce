"""The Tasks page in Chromium, at a laptop's width and a phone's: my open tasks, one marked done, the
filter for the finished; no axe-core violation, nothing wider than the screen."""

import pytest

from automation.models import Task
from automation.services import journey_enrol, journeys_run_due
from automation.tests.factories import journey
from crm.models import Contact
from crm.tests.factories import ContactFactory
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}])
def test_marketer_marks_a_task_done_from_the_tasks_page(live_server, browser, make_user, viewport):
    mia = make_user("mia", role="Marketer", password=PASSWORD)
    trip = journey(name="Demo requests from the pricing page", steps=[
        {"key": "task", "kind": "create_task", "next": "end",
         "config": {"title": "Call back about the demo they asked for", "user_id": mia.pk, "due_in_days": 1}},
        {"key": "end", "kind": "exit"}])
    ann = ContactFactory(email="ann.with.a.long.address@example-company.com")
    journey_enrol(journey=trip, contacts=Contact.objects.filter(pk__in=[ann.pk, ContactFactory().pk]), source="test")
    journeys_run_due()
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    try:
        log_in(page, live_server.url, "mia", "/journeys/tasks/")
        page.wait_for_selector("#tasks")
        assert page.locator("#tasks tbody tr").count() == 2
        assert axe_violations(page) == [] and horizontal_overflow(page) == 0
        page.click(f"button[aria-label*='{ann.email}']")
        page.wait_for_selector("text=Done: Call back")
        assert page.locator("#tasks tbody tr").count() == 1
        assert Task.objects.get(contact=ann).done
        page.select_option("select[name=shown]", "done")
        page.click("text=Apply")
        page.wait_for_selector("tr[data-done=true]")
        assert axe_violations(page) == [] and horizontal_overflow(page) == 0
    finally:
        context.close()
