from datetime import datetime, time, timedelta

import pytest
from django.utils import timezone

from publishing.choices import ContentStatus
from publishing.models import Content
from publishing.tests.factories import ChannelFactory, JobFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"


def log_in(page, live_server, username, next_url):
    page.goto(f"{live_server.url}/accounts/login/?next={next_url}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")


def test_write_preview_submit_and_approve_in_the_back_office(live_server, page, browser, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    make_user("ravi", role="Approver", password=PASSWORD)

    log_in(page, live_server, "mia", "/publishing/content/new/")
    page.fill("#id_title", "Spring launch")
    page.fill("#id_body", "We shipped **faster imports** for everyone.")
    page.fill("#id_tags", "launch, marketing ops")
    page.click("text=Save")
    page.wait_for_selector("#content-status")
    assert page.inner_text("#content-status") == "Draft"

    page.check("input[name=kinds][value=x]")
    page.check("input[name=kinds][value=linkedin]")
    page.click("text=Generate versions")
    page.wait_for_selector(".preview-x")
    assert "#MarketingOps" in page.inner_text(".preview-x")
    assert "faster imports" in page.inner_text(".preview-linkedin")

    page.click("#workflow button[value=submit]")
    page.wait_for_selector("#content-status >> text=In review")

    reviewer = browser.new_context().new_page()
    log_in(reviewer, live_server, "ravi", "/publishing/?status=in_review")
    reviewer.click("text=Spring launch")
    reviewer.fill("input[name=note]", "Good to go")
    reviewer.click("#workflow button[value=approve]")
    reviewer.wait_for_selector("#content-status >> text=Approved")
    assert "Good to go" in reviewer.inner_text(".audit")
    assert Content.objects.get().status == ContentStatus.APPROVED


def test_calendar_shows_the_weeks_posts_per_channel(live_server, page, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    job = JobFactory(channel=ChannelFactory(name="Team Slack"))

    log_in(page, live_server, "mia", "/publishing/calendar/")
    page.wait_for_selector(".calendar-day.today")
    today = page.inner_text(".calendar-day.today")
    assert "Team Slack" in today and job.content.title in today and "Scheduled" in today


def test_drag_a_post_to_another_day_or_move_it_by_keyboard(live_server, page, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday()) + timedelta(days=7)
    at = datetime.combine(monday, time(9, 30), tzinfo=timezone.get_current_timezone())
    dragged = JobFactory(scheduled_at=at, due_at=at, version__content__title="Spring launch")
    keyed = JobFactory(scheduled_at=at, due_at=at, version__content__title="Autumn sale")

    log_in(page, live_server, "mia", f"/publishing/calendar/?week={monday.isoformat()}")
    wednesday = (monday + timedelta(days=2)).isoformat()
    page.locator(f".job[data-job='{dragged.pk}']").drag_to(page.locator(f".calendar-day[data-day='{wednesday}']"))
    page.wait_for_selector(f".calendar-day[data-day='{wednesday}'] .job[data-job='{dragged.pk}']")
    assert "moved to" in page.inner_text(".messages")
    dragged.refresh_from_db()
    assert dragged.scheduled_at == at + timedelta(days=2)

    # The keyboard path: open the post's "Move" control, type the day, send.
    friday = (monday + timedelta(days=4)).isoformat()
    summary = page.locator(f".job[data-job='{keyed.pk}'] summary")
    summary.focus()
    page.keyboard.press("Enter")
    day = page.locator(f".job[data-job='{keyed.pk}'] input[name=day]")
    day.focus()
    day.fill(friday)
    page.keyboard.press("Enter")
    page.wait_for_selector(f".calendar-day[data-day='{friday}'] .job[data-job='{keyed.pk}']")
    keyed.refresh_from_db()
    assert keyed.scheduled_at == at + timedelta(days=4)
    assert page.url.endswith(f"/publishing/calendar/?week={monday.isoformat()}")


def test_the_editor_previews_the_markdown_while_typing(live_server, page, make_user):
    make_user("mia", role="Marketer", password=PASSWORD)
    log_in(page, live_server, "mia", "/publishing/content/new/")
    page.wait_for_selector("#body-preview >> text=The body is empty.")
    page.fill("#id_title", "Spring launch")
    page.locator("#id_body").press_sequentially("## What is new\n\nWe shipped **faster imports**.")
    page.wait_for_selector("#body-preview h2 >> text=What is new")
    assert page.inner_text("#body-preview strong") == "faster imports"
