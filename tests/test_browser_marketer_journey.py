"""Issue #17's journey: the demo marketer runs a whole campaign in Chromium without ever opening the
Django admin, on a laptop and on a phone. A CSV import, a bulk tag from the contacts list, a segment
built by clicking, an image uploaded and approved by the approver from the inbox, content written
with it and approved, a campaign on the segment posting on two channels with accounts (a Slack
webhook and a signed webhook, both a local contract server), and an email send with an A/B subject
test delivered by a real django-q2 worker to a real SMTP server, watched on the home page and read
back on the send's page and the campaign report. Every page the journey shows is checked: nothing
wider than the screen and no axe-core violation."""

import re
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from django_q.tasks import async_task, result

from aicmo_site.testing.worker import wait_for
from crm.models import Contact, Segment
from media.tests import images
from media.tests.factories import LibraryFactory
from publishing.choices import JobStatus
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.models import Campaign, PublishingJob
from publishing.tests.channels import channel_on
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account
from tests.browser import PASSWORD, axe_violations, horizontal_overflow, log_in

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]

VIEWPORTS = {"laptop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
WORKER_ENV = {
    "PUBLIC_BASE_URL": "https://aicmo.example",
    "EMAIL_BATCH_SIZE": "2",
    "EMAIL_SEND_CONCURRENCY": "1",
    "PUBLISHING_DISPATCH_POLL_SECONDS": "0.2",
    "PUBLISHING_BACKOFF_BASE_SECONDS": "0.2",
}
# Six people and a row without an address, the way a webinar tool exports its attendees.
CSV = (
    "Email Address,First Name,Last Name,Company Name\n"
    "ann@acme.example,Ann,Lee,Acme\n"
    "bob@globex.example,Bob,Ray,Globex\n"
    "not-an-email,Bad,Row,Nowhere\n"
    "cat@initech.example,Cat,Moe,Initech\n"
    "dan@umbrella.example,Dan,Poe,Umbrella\n"
    "eve@hooli.example,Eve,Kim,Hooli\n"
    "fay@stark.example,Fay,Orr,Stark\n"
)
KEEN = ["ann@acme.example", "bob@globex.example", "cat@initech.example", "dan@umbrella.example"]


class Visit:
    """Checks every page the journey shows, once per address and state worth a look."""

    def __init__(self):
        self.problems: list[str] = []
        self.checked = 0

    def check(self, page, what: str = "") -> None:
        page.wait_for_load_state("load")
        where = f"{urlsplit(page.url).path} {what}".strip()
        assert not urlsplit(page.url).path.startswith("/admin/"), where
        overflow = horizontal_overflow(page)
        if overflow > 0:
            self.problems.append(f"{where}: {overflow} px wider than the screen")
        self.problems += [f"{where}: {violation}" for violation in axe_violations(page)]
        self.checked += 1


def open_section(page, label: str) -> None:
    """Goes to a section through the navigation, as a person would: on a phone the menu unfolds first."""
    toggle = page.locator(".nav-toggle")
    if toggle.is_visible() and toggle.get_attribute("aria-expanded") == "false":
        toggle.click()
    page.locator("#sidebar").get_by_role("link", name=re.compile(rf"^{label}\b")).first.click()
    page.wait_for_load_state("load")


def never_the_admin(page, opened: list[str]) -> None:
    """Fails the journey the moment any request (a page, a form, a fetch) goes to the Django admin."""

    def watch(request):
        if urlsplit(request.url).path.startswith("/admin/"):
            opened.append(request.url)

    page.on("request", watch)


@pytest.mark.parametrize("device", list(VIEWPORTS))
def test_marketer_runs_a_campaign_from_import_to_report_without_the_admin(
    device, request, live_server, browser, make_user, qcluster, smtp_server, httpserver, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    # What an administrator set up beforehand: the two people, a library, the channels' and the
    # sender's accounts, an email template.
    make_user("mia", role="Marketer", password=PASSWORD)
    make_user("ravi", role="Approver", password=PASSWORD)
    LibraryFactory(name="Brand")
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    httpserver.expect_request("/webhook", method="POST").respond_with_data("", status=204)
    slack, webhook = channel_on(httpserver, "slack"), channel_on(httpserver, "webhook")
    EmailTemplateFactory(name="Monthly news")
    smtp_account(smtp_server)
    # The worker boots while the marketer works; it is idle until the send (small imports run inline).
    qcluster(**WORKER_ENV)

    visit = Visit()
    opened_admin: list[str] = []
    contexts = [browser.new_context(viewport=VIEWPORTS[device]) for _ in range(2)]
    for context in contexts:
        request.addfinalizer(context.close)
    page, approver = (context.new_page() for context in contexts)
    for tab in (page, approver):
        tab.set_default_timeout(20000)
        never_the_admin(tab, opened_admin)

    # Import the CSV: upload, check the columns, import; the bad row is counted, not lost.
    log_in(page, live_server.url, "mia", "/contacts/")
    visit.check(page, "empty")
    page.click("text=Import CSV")
    page.wait_for_url("**/contacts/imports/")
    visit.check(page)
    page.set_input_files("#id_file", {"name": "webinar.csv", "mimeType": "text/csv", "buffer": CSV.encode()})
    page.fill("#id_tag", "webinar")
    page.click("text=Upload and preview")
    page.wait_for_url("**/mapping/")
    visit.check(page)
    page.click("text=Import 7 rows")
    page.wait_for_selector("[data-field=status] >> text=Completed")
    assert page.inner_text("[data-field=created_count]") == "6"
    assert page.inner_text("[data-field=failed_count]") == "1"
    assert page.locator("text=Download the error report").is_visible()
    visit.check(page)

    # Tag four of them from the list.
    open_section(page, "Contacts")
    page.select_option("#filters select[name=tag]", "webinar")
    page.click("#filters button[type=submit]")
    page.wait_for_url("**tag=webinar**")
    assert page.inner_text("#row-count") == "Showing 1–6 of 6 contacts"
    visit.check(page)
    for email in KEEN:
        page.check(f"#contacts input[aria-label='Select {email}']")
    page.select_option("#bulk-action", "add_tags")
    page.fill("#bulk-actions input[name=tags]", "spring-keen")
    page.click("#bulk-apply")
    page.wait_for_selector(".messages >> text=4 tag links added.")
    visit.check(page, "after the bulk tag")
    assert set(Contact.objects.filter(tags__name="spring-keen").values_list("email", flat=True)) == set(KEEN)

    # A segment of the tagged, built by clicking, counted live.
    open_section(page, "Segments")
    visit.check(page, "empty")
    page.click("text=New segment")
    page.wait_for_function("document.getElementById('live-count').textContent === '6'")
    page.click("#rule-builder >> text=Add rule")
    page.locator("#rule-builder .rule").first.locator("input[aria-label=Values]").fill("spring-keen")
    page.wait_for_function("document.getElementById('live-count').textContent === '4'")
    page.fill("#id_name", "Keen webinar guests")
    visit.check(page)
    page.click("#segment-form button[type=submit]")
    page.wait_for_selector("text=saved")
    assert Segment.objects.get().name == "Keen webinar guests"

    # An image into the library, sent for approval.
    open_section(page, "Asset library")
    page.wait_for_selector("#dropzone[data-ready]")
    visit.check(page, "empty")
    page.set_input_files(
        "#upload-files", {"name": "team-photo.jpg", "mimeType": "image/jpeg", "buffer": images.jpeg_bytes(800, 600)}
    )
    page.wait_for_selector("#upload-results >> text=team-photo.jpg: Uploaded.")
    page.click(".media-card >> text=team-photo.jpg")
    page.wait_for_selector("button[value=submit]")
    visit.check(page)
    page.click("button[value=submit]")
    page.wait_for_selector(".messages >> text=Asset is now in review.")
    visit.check(page, "in review")

    # The approver approves it from the inbox the navigation points to.
    log_in(approver, live_server.url, "ravi")
    visit.check(approver, "the approver's")
    approver.click("#needs-you >> text=1 item waiting for your approval")
    approver.wait_for_url("**/publishing/approvals/")
    visit.check(approver)
    approver.click("#inbox-assets button[value=approve]")
    approver.wait_for_selector("text=Nothing is waiting for your approval.")
    visit.check(approver, "emptied")

    # Content with that image, submitted, then approved from the inbox too.
    open_section(page, "Content")
    page.click("text=New content")
    page.wait_for_url("**/publishing/content/new/")
    visit.check(page)
    page.fill("#id_title", "Spring launch")
    page.fill("#id_body", "We shipped **faster imports** for everyone.")
    page.check("#media-picker >> text=team-photo.jpg")
    page.click("#content-form button[type=submit]")
    page.wait_for_selector("#content-status >> text=Draft")
    assert page.inner_text("#content-media .media-name") == "team-photo.jpg"
    visit.check(page)
    page.click("#workflow button[value=submit]")
    page.wait_for_selector("#content-status >> text=In review")
    open_section(approver, "Approvals")
    approver.click("#inbox-content button[value=approve]")
    approver.wait_for_selector(".messages >> text=“Spring launch” approved.")
    visit.check(approver, "after approving")

    # The campaign on the segment, posting the content on both channels when it starts.
    open_section(page, "Campaigns")
    visit.check(page, "empty")
    page.click("text=New campaign")
    page.fill("#id_name", "Spring launch week")
    page.fill("#id_goal", "40 demo requests")
    start = timezone.localtime().strftime("%Y-%m-%dT%H:%M")
    page.fill("#id_starts_at", start)
    page.check("#pick-segments >> text=Keen webinar guests (4 members)")
    page.wait_for_selector("#audience-count >> text=4")
    row = page.locator("tr", has_text="Spring launch")
    row.locator("input[name=contents]").check()
    row.locator(f"text={slack.name} — posted through").check()
    row.locator(f"text={webhook.name} — posted through").check()
    # Its own time: the post is scheduled for the minute the campaign starts, so it goes out at once.
    row.locator("input[type=datetime-local]").fill(start)
    visit.check(page)
    page.click("text=Save and review")
    page.wait_for_selector("#ready")
    assert "4 people can be emailed" in page.inner_text("main")
    visit.check(page)

    # Its email send, set up before the campaign goes live (a campaign whose posts are all out is
    # over): an A/B subject test on half the audience, the winner picked by hand.
    campaign = Campaign.objects.get()
    page.click(f"main >> text={campaign.name}")
    page.wait_for_url(f"**{campaign.get_absolute_url()}")
    visit.check(page, "a draft")
    page.click("text=Set up an email send")
    page.select_option("#id_template", label="Monthly news")
    page.fill("#id_subject", "Spring is here")
    page.select_option("#id_ab_test", "subject")
    page.fill("#id_subject_b", "Three things we shipped")
    page.fill("#id_test_share", "50")
    page.check("text=I pick the winner myself")
    visit.check(page)
    page.click("text=Save and continue")
    page.wait_for_selector("#send-status >> text=Draft")
    visit.check(page, "asking to confirm")
    page.click("#preview-link")
    page.wait_for_selector("#variant-B")
    assert "Three things we shipped" in page.inner_text("#variant-B")
    visit.check(page)
    page.go_back()
    page.click("text=Yes, send now")
    page.wait_for_selector(".messages >> text=Done: send", state="attached")
    wait_for(lambda: len(smtp_server.messages) == 2, timeout=60, message="the test share at the SMTP server")
    assert {mail.message()["Subject"] for mail in smtp_server.messages} == {"Spring is here", "Three things we shipped"}

    # The SMTP server answers before the worker records the delivery: the page shows what is recorded.
    wait_for(
        lambda: EmailDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2,
        timeout=30,
        message="the test share recorded as sent",
    )
    # The home page shows the send under way: half of it out, the rest waiting for the winner.
    open_section(page, "Overview")
    under_way = page.locator("#under-way li", has_text="Email “Spring launch week”")
    assert "sending" in under_way.inner_text() and under_way.locator("progress").get_attribute("value") == "50"
    visit.check(page, "with a send under way")
    assert "Import webinar.csv: 1 row in error" in page.inner_text("#needs-you")

    open_section(page, "Campaigns")
    page.click(f"main >> text={campaign.name}")
    page.click("text=Review and activate")
    page.wait_for_selector("#ready")
    page.click("#activate")
    page.wait_for_url(f"**{campaign.get_absolute_url()}")
    # "Published" only once the receivers really got the posts.
    wait_for(
        lambda: sorted(request.path for request, _ in httpserver.log) == ["/slack", "/webhook"],
        timeout=60,
        message="both posts at the receivers",
    )
    wait_for(
        lambda: set(PublishingJob.objects.values_list("status", flat=True)) == {JobStatus.PUBLISHED},
        timeout=30,
        message="both jobs recorded as published",
    )
    page.reload()
    assert page.locator("#jobs .badge.status-published").count() == 2
    assert page.inner_text("#campaign-status") in ("Running", "Completed")
    visit.check(page, "published")
    open_section(page, "Calendar")
    today = page.inner_text(".calendar-day.today")
    assert "Spring launch" in today and slack.name in today and webhook.name in today
    assert today.count(start[-5:]) == 2, "both posts at the time they were scheduled for"
    visit.check(page)

    open_section(page, "Overview")
    under_way = page.locator("#under-way li", has_text="Email “Spring launch week”")
    under_way.locator("a").click()
    page.wait_for_selector("#ab-test")
    visit.check(page, "during the A/B test")
    page.locator("#ab-test tr", has_text="Three things we shipped").locator("text=Pick as winner…").click()
    visit.check(page, "confirming the winner")
    page.click("#ab-confirm button")
    wait_for(lambda: len(smtp_server.messages) == 4, timeout=60, message="the rest of the audience")
    assert sorted(mail.rcpt_tos[0] for mail in smtp_server.messages) == KEEN
    assert [mail.message()["Subject"] for mail in smtp_server.messages[2:]] == ["Three things we shipped"] * 2
    wait_for(
        lambda: EmailCampaign.objects.get().status == SendStatus.COMPLETED, timeout=30, message="the send to complete"
    )

    # The results: the send's own counts, then the campaign report.
    page.reload()
    assert page.inner_text("#send-status") == "Completed"
    assert page.inner_text("[data-field=sent]") == "4" and page.inner_text("[data-field=remaining]") == "0"
    visit.check(page, "completed")
    # The report reads the roll-ups the scheduler folds every five minutes: the worker folds now.
    folded = async_task("analytics.tasks.fold_rollups")
    assert result(folded, wait=30000) is not None, "the worker folded the roll-ups"
    open_section(page, "Campaigns")
    page.click(f"main >> text={campaign.name}")
    page.click("#campaign-report-link")
    page.wait_for_selector("#campaign-totals")
    sent = page.locator("#campaign-totals tr", has=page.locator("th", has_text="Sent")).first
    assert sent.locator("td").first.inner_text() == "4"
    assert "Winner:" in page.inner_text("#ab-test")
    visit.check(page)

    assert not opened_admin, opened_admin
    assert visit.checked > 25
    assert not visit.problems, "\n".join(visit.problems)
