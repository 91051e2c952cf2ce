"""The campaign journey a marketer runs in a real browser without the Django admin: build a campaign on
a segment across two channels (the recap on one) with a time per post, review and activate it, then set up its email
send with an A/B subject test, start it, watch a real django-q2 worker deliver the test share to a real
SMTP server, and pick the winner by hand, which sends the rest."""

import pytest
from django.utils import timezone

from aicmo_site.testing.worker import wait_for
from crm.tests.factories import ContactFactory, SegmentFactory
from publishing.choices import CampaignStatus, JobStatus
from publishing.email.choices import ABStatus
from publishing.email.models import EmailCampaign
from publishing.models import Campaign
from publishing.tests.email.factories import EmailTemplateFactory, smtp_account
from publishing.tests.factories import ChannelFactory, ContentFactory, approve

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.django_db(transaction=True)]
PASSWORD = "a-long-password-1"
WORKER_ENV = {"PUBLIC_BASE_URL": "https://aicmo.example", "EMAIL_BATCH_SIZE": "2", "EMAIL_SEND_CONCURRENCY": "1"}
KEEN = {"op": "and", "rules": [{"field": "engagement_score", "operator": "gte", "value": 60}]}


def test_build_schedule_activate_then_send_an_ab_test(live_server, page, make_user, qcluster, smtp_server):
    make_user("mia", role="Marketer", password=PASSWORD)
    for n in range(6):
        ContactFactory(email=f"keen{n}@client.example", engagement_score=80, consent_status="subscribed")
    ContactFactory(email="left@client.example", engagement_score=90, consent_status="unsubscribed")
    ContactFactory(email="cold@client.example", engagement_score=5, consent_status="subscribed")
    SegmentFactory(name="Keen readers", rules=KEEN)
    launch = approve(ContentFactory(title="Spring launch"))
    recap = approve(ContentFactory(title="Launch recap"))
    ChannelFactory(name="Team Slack", kind="slack")
    ChannelFactory(name="Blog", kind="website")
    EmailTemplateFactory(name="Monthly news")
    smtp_account(smtp_server)
    visited = []
    page.on("framenavigated", lambda frame: visited.append(frame.url) if frame == page.main_frame else None)

    page.goto(f"{live_server.url}/accounts/login/?next=/publishing/campaigns/")
    page.fill("#id_username", "mia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("text=New campaign")
    page.fill("#id_name", "Spring launch week")
    page.fill("#id_goal", "40 demo requests")
    page.check("#pick-segments >> text=Keen readers (7 members)")
    # The live count recounts through htmx: seven picked, the unsubscribed one left out.
    page.wait_for_selector("#audience-count >> text=6")
    assert "7 picked; 1 left out" in page.inner_text("#audience-size")
    tomorrow = timezone.localtime() + timezone.timedelta(days=1)
    for content, hour in ((launch, 9), (recap, 15)):
        row = page.locator(f"tr[data-content='{content.pk}']")
        row.locator("input[name=contents]").check()
        row.locator("text=Team Slack — you post it by hand").check()
        if content == launch:
            row.locator("text=Blog — on this site's public pages").check()
        row.locator("input[type=datetime-local]").fill(tomorrow.replace(hour=hour, minute=0).strftime("%Y-%m-%dT%H:%M"))
    page.click("text=Save and review")

    page.wait_for_selector("#ready")
    assert "6 people can be emailed" in page.inner_text("main")
    page.click("#activate")
    page.wait_for_selector("#campaign-status >> text=Scheduled")
    campaign = Campaign.objects.get()
    assert campaign.status == CampaignStatus.SCHEDULED
    times = {(job.content.title, job.channel.name): timezone.localtime(job.scheduled_at).hour
             for job in campaign.jobs.select_related("content", "channel")}
    assert times == {("Spring launch", "Team Slack"): 9, ("Spring launch", "Blog"): 9,
                     ("Launch recap", "Team Slack"): 15}
    assert set(campaign.jobs.values_list("status", flat=True)) == {JobStatus.SCHEDULED}

    page.click("text=Set up an email send")
    page.select_option("#id_template", label="Monthly news")
    assert page.locator("#id_sender option").all_inner_texts() == ["news@aicmo.example (smtp-test)"]
    page.fill("#id_subject", "Spring is here")
    page.select_option("#id_ab_test", "subject")
    page.fill("#id_subject_b", "Three things we shipped")
    page.fill("#id_test_share", "50")
    page.check("text=I pick the winner myself")
    page.click("text=Save and continue")
    page.wait_for_selector("#send-status >> text=Draft")

    page.click("#preview-link")
    page.wait_for_selector("#variant-A")
    assert "Spring is here" in page.inner_text("#variant-A")
    assert "Three things we shipped" in page.inner_text("#variant-B")
    page.go_back()

    qcluster(**WORKER_ENV)
    # Saving led to the send's page asking to confirm; the preview was one step aside.
    page.click("text=Yes, send now")
    page.wait_for_selector(".messages >> text=Done: send", state="attached")
    # Half of the six get the variants (one half each); the other half waits for the winner.
    wait_for(lambda: len(smtp_server.messages) == 3, timeout=60, message="the test share at the SMTP server")
    subjects = sorted(mail.message()["Subject"] for mail in smtp_server.messages)
    assert set(subjects) == {"Spring is here", "Three things we shipped"}

    page.reload()
    page.locator("#ab-test tr", has_text="Three things we shipped").locator("text=Pick as winner…").click()
    page.click("#ab-confirm button")
    wait_for(lambda: len(smtp_server.messages) == 6, timeout=60, message="the rest of the audience")
    late = [mail.message()["Subject"] for mail in smtp_server.messages[3:]]
    assert late == ["Three things we shipped"] * 3
    assert EmailCampaign.objects.get().ab_test.status == ABStatus.DECIDED
    assert not [url for url in visited if "/admin/" in url]
