import pytest

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
