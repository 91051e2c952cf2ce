from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from aicmo_site.roles import APPROVER
from publishing import dispatcher
from publishing.choices import CampaignStatus, ContentStatus, JobStatus
from publishing.models import PublishingJob
from publishing.services import content_create
from publishing.tests.factories import CampaignFactory, ChannelFactory, ContentFactory, JobFactory, approve

pytestmark = pytest.mark.django_db


def test_content_list_filters_searches_and_shows_an_empty_state(marketer_client, django_assert_max_num_queries):
    ContentFactory(title="Spring launch")
    ContentFactory(title="Autumn sale")
    with django_assert_max_num_queries(12):
        page = marketer_client.get(reverse("publishing:content-list"), {"q": "spring"})
    assert b"Spring launch" in page.content and b"Autumn sale" not in page.content
    empty = marketer_client.get(reverse("publishing:content-list"), {"q": "nothing like it"})
    assert b"No content matches these filters" in empty.content


def test_content_page_shows_workflow_buttons_from_available_actions(marketer_client, client, make_user):
    content = content_create(by=marketer_client.user, title="Mine", body="text")
    page = marketer_client.get(content.get_absolute_url())
    assert b'value="submit"' in page.content and b'value="approve"' not in page.content
    marketer_client.post(reverse("publishing:content-action", args=[content.pk]), {"action": "submit"})
    content.refresh_from_db()
    assert content.status == ContentStatus.IN_REVIEW
    approver = make_user("boss", role=APPROVER)
    client.force_login(approver)
    page = client.get(content.get_absolute_url())
    assert b'value="approve"' in page.content
    client.post(reverse("publishing:content-action", args=[content.pk]), {"action": "approve", "note": "ok"})
    content.refresh_from_db()
    assert content.status == ContentStatus.APPROVED


def test_content_form_shows_field_errors(marketer_client):
    response = marketer_client.post(reverse("publishing:content-create"), {"kind": "blog_post", "title": "",
                                                                            "link_url": "not a url"})
    assert response.status_code == 200
    assert response.context["form"].errors.keys() >= {"title", "link_url"}


def test_archiving_asks_for_confirmation(marketer_client):
    content = content_create(by=marketer_client.user, title="Old", body="text")
    url = reverse("publishing:content-action", args=[content.pk])
    ask = marketer_client.post(url, {"action": "archive"})
    assert b"Yes, archive" in ask.content
    content.refresh_from_db()
    assert content.status == ContentStatus.DRAFT
    marketer_client.post(url, {"action": "archive", "confirmed": "yes"})
    content.refresh_from_db()
    assert content.status == ContentStatus.ARCHIVED


def test_version_generation_and_hand_edit(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="Body", tags=["a"])
    marketer_client.post(reverse("publishing:content-versions", args=[content.pk]), {"kinds": ["x", "devto"]})
    version = content.versions.get(kind="x")
    response = marketer_client.post(reverse("publishing:version-edit", args=[version.pk]),
                                    {"body": "Hand written", "hashtags": "#one, two"})
    assert response.status_code == 302
    version.refresh_from_db()
    assert (version.body, version.hashtags, version.edited_by_hand) == ("Hand written", ["one", "two"], True)
    page = marketer_client.get(content.get_absolute_url())
    assert b"Hand written" in page.content


def test_campaign_page_lists_jobs_and_cancel_needs_confirmation(marketer_client):
    job = JobFactory()
    url = reverse("publishing:campaign-detail", args=[job.campaign.pk])
    page = marketer_client.get(url)
    assert f'data-job="{job.pk}"'.encode() in page.content
    ask = marketer_client.post(reverse("publishing:job-action", args=[job.pk]), {"action": "cancel"})
    assert b"Yes, cancel" in ask.content
    marketer_client.post(reverse("publishing:job-action", args=[job.pk]), {"action": "cancel", "confirmed": "yes"})
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELED


def test_calendar_shows_jobs_by_day_and_channel(marketer_client):
    monday = timezone.localdate() - timedelta(days=timezone.localdate().weekday())
    at = timezone.make_aware(timezone.datetime.combine(monday + timedelta(days=2), timezone.datetime.min.time()))
    job = JobFactory(scheduled_at=at + timedelta(hours=9), due_at=at + timedelta(hours=9),
                     channel=ChannelFactory(name="Team Slack"))
    later = JobFactory(scheduled_at=at + timedelta(days=8), due_at=at + timedelta(days=8))
    page = marketer_client.get(reverse("publishing:calendar"), {"week": monday.isoformat()})
    assert page.status_code == 200
    days = dict(page.context["days"])
    (channel, jobs), = days[monday + timedelta(days=2)].items()
    assert channel.name == "Team Slack" and jobs == [job]
    assert later.content.title.encode() not in page.content
    day = marketer_client.get(reverse("publishing:calendar"), {"view": "day",
                                                               "date": (monday + timedelta(days=2)).isoformat()})
    assert job.content.title.encode() in day.content


def test_public_page_and_feeds_of_the_website_channel(client, settings):
    job = JobFactory(channel=ChannelFactory(kind="website", slug="blog", name="Our blog"), version__kind="website",
                     version__title="Hello <world>", version__body="Some **bold** text <script>x()</script>",
                     version__content__body="Some **bold** text <script>x()</script>")
    content = approve(job.content)
    assert client.get(content.get_public_url()).status_code == 404
    dispatcher.dispatch_once()
    page = client.get(content.get_public_url())
    assert page.status_code == 200
    assert b"<strong>bold</strong>" in page.content and b"<script>x()" not in page.content
    rss = client.get(reverse("publishing:feed-rss", args=["blog"]))
    assert rss.status_code == 200 and rss["Content-Type"].startswith("application/rss+xml")
    assert b"<title>Hello &lt;world&gt;</title>" in rss.content
    assert b"&lt;script&gt;" not in rss.content.replace(b"&amp;lt;script&amp;gt;", b"")
    atom = client.get(reverse("publishing:feed-atom", args=["blog"]))
    assert atom.status_code == 200 and b'xmlns="http://www.w3.org/2005/Atom"' in atom.content
    assert client.get(reverse("publishing:feed-rss", args=["nope"])).status_code == 404


def test_back_office_needs_a_login(client):
    response = client.get(reverse("publishing:content-list"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_campaign_action_shows_why_activation_was_refused(marketer_client):
    job = JobFactory()
    campaign = job.campaign
    job.delete()
    response = marketer_client.post(reverse("publishing:campaign-action", args=[campaign.pk]),
                                    {"action": "activate"}, follow=True)
    assert b"not ready" in response.content
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.DRAFT


def test_replacing_hand_edited_versions_asks_for_confirmation(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="Body")
    url = reverse("publishing:content-versions", args=[content.pk])
    marketer_client.post(url, {"kinds": ["x", "devto"]})
    version = content.versions.get(kind="x")
    marketer_client.post(reverse("publishing:version-edit", args=[version.pk]), {"body": "Hand written"})
    ask = marketer_client.post(url, {"kinds": ["x", "devto"], "force": "on"})
    assert ask.status_code == 200 and "Replace the hand edits of the x version" in ask.content.decode()
    assert b'name="kinds" value="devto"' in ask.content and b'name="force" value="on"' in ask.content
    version.refresh_from_db()
    assert version.body == "Hand written"
    marketer_client.post(url, {"kinds": ["x", "devto"], "force": "on", "confirmed": "yes"})
    version.refresh_from_db()
    assert version.body != "Hand written" and not version.edited_by_hand


def test_regenerating_without_hand_edits_needs_no_confirmation(marketer_client):
    content = content_create(by=marketer_client.user, title="Launch", body="Body")
    url = reverse("publishing:content-versions", args=[content.pk])
    marketer_client.post(url, {"kinds": ["x"]})
    response = marketer_client.post(url, {"kinds": ["x"], "force": "on"})
    assert response.status_code == 302


def test_campaign_page_shows_posting_progress_and_filters_jobs(marketer_client, django_assert_num_queries):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    published = [JobFactory(campaign=campaign, status=JobStatus.PUBLISHED) for _ in range(3)]
    failed = JobFactory(campaign=campaign, status=JobStatus.FAILED, error_message="Token expired")
    JobFactory(campaign=campaign, content=published[0].content, version=published[0].version)
    campaign.channels.set([job.channel for job in [*published, failed]])
    other = JobFactory()
    url = reverse("publishing:campaign-detail", args=[campaign.pk])
    # 13: with the one that asks whether the campaign has stuck jobs
    # 15: 13, the change history, and the cities a scheduled post may be held for the weather in
    with django_assert_num_queries(15):
        page = marketer_client.get(url)
    progress = page.context["progress"]
    assert (progress["total"], progress["settled"], progress["percent"], progress["attention"]) == (5, 3, 60, 1)
    assert b'aria-valuenow="60"' in page.content and b'data-status="failed"' in page.content
    assert [job.pk for job in marketer_client.get(url, {"status": "failed"}).context["page"]] == [failed.pk]
    by_channel = marketer_client.get(url, {"channel": failed.channel_id})
    assert [job.pk for job in by_channel.context["page"]] == [failed.pk]
    assert [job.pk for job in marketer_client.get(url, {"q": "expired"}).context["page"]] == [failed.pk]
    # Another campaign's id in the address does not list its jobs on this page.
    foreign = marketer_client.get(url, {"campaign": other.campaign_id})
    assert other.pk not in {job.pk for job in foreign.context["page"]}
    assert b"No jobs match these filters" in marketer_client.get(url, {"q": "nothing"}).content


def test_calendar_filters_by_campaign_and_keeps_filters_from_week_to_week(marketer_client,
                                                                          django_assert_num_queries):
    job, other = JobFactory(), JobFactory()
    failed = JobFactory(campaign=job.campaign, status=JobStatus.FAILED)
    # Eight: opened without a date, one query asks whether this week has posts.
    with django_assert_num_queries(8):
        page = marketer_client.get(reverse("publishing:calendar"), {"campaign": job.campaign_id, "status": "scheduled"})
    assert job.content.title.encode() in page.content and other.content.title.encode() not in page.content
    assert failed.content.title.encode() not in page.content
    html = page.content.decode()
    assert f'<option value="{job.campaign_id}" selected>' in html
    query = f"campaign={job.campaign_id}&amp;status=scheduled"
    for link in ("calendar-previous", "calendar-next"):
        start = html.index(f'id="{link}"')
        assert query in html[html.rindex("<a", 0, start):start]


def test_content_and_version_pages_load_the_publishing_styles(marketer_client):
    # Without them the version previews do not wrap and the page scrolls sideways.
    content = content_create(by=marketer_client.user, title="Launch", body="Body")
    marketer_client.post(reverse("publishing:content-versions", args=[content.pk]), {"kinds": ["x"]})
    for url in (content.get_absolute_url(),
                reverse("publishing:version-edit", args=[content.versions.get().pk])):
        page = marketer_client.get(url)
        assert b"publishing/publishing.css" in page.content and b'class="card preview' in page.content


def test_campaign_list_shows_each_campaign_progress_in_fixed_queries(marketer_client, django_assert_num_queries):
    campaign = CampaignFactory(name="Spring")
    JobFactory(campaign=campaign, status=JobStatus.PUBLISHED)
    JobFactory(campaign=campaign, status=JobStatus.CANCELED)
    JobFactory.create_batch(2, campaign=campaign)
    CampaignFactory(name="Empty")
    with django_assert_num_queries(6):
        page = marketer_client.get(reverse("publishing:campaign-list"))
    assert b'aria-valuenow="50"' in page.content
    assert page.context["page"].object_list.ordered  # stable pages
    JobFactory.create_batch(3)
    with django_assert_num_queries(6):
        marketer_client.get(reverse("publishing:campaign-list"))


def test_campaign_page_says_why_a_job_needs_checking_and_which_post_is_on_its_way(marketer_client):
    reason = ("Outcome unknown: Slack: no answer in time. The request may have reached Slack, which offers no way "
              "to ask. Check the channel, then mark the job published or retry it.")
    checking = JobFactory(urgent=True)
    PublishingJob.objects.filter(pk=checking.pk).update(status=JobStatus.NEEDS_CHECKING, error_message=reason)
    on_its_way = JobFactory(campaign=checking.campaign)
    PublishingJob.objects.filter(pk=on_its_way.pk).update(status=JobStatus.PUBLISHING, sending_since=timezone.now())

    page = marketer_client.get(reverse("publishing:campaign-detail", args=[checking.campaign.pk]))

    text = page.content.decode()
    assert reason in text and "Urgent" in text
    assert "waiting for its answer" in text


def test_a_campaign_that_went_out_links_to_its_report_and_a_draft_does_not(marketer_client):
    draft = CampaignFactory(status=CampaignStatus.DRAFT)
    live = CampaignFactory(status=CampaignStatus.RUNNING, activated_at=timezone.now())
    assert b'id="campaign-report-link"' not in marketer_client.get(draft.get_absolute_url()).content
    page = marketer_client.get(live.get_absolute_url()).content.decode()
    assert f'<a href="/analytics/campaigns/{live.pk}/" id="campaign-report-link">Campaign report</a>' in page


def test_campaign_page_offers_each_job_the_buttons_its_workflow_allows(marketer_client):
    campaign = CampaignFactory(status=CampaignStatus.RUNNING)
    failed = JobFactory(campaign=campaign, status=JobStatus.FAILED)
    manual = JobFactory(campaign=campaign, status=JobStatus.AWAITING_MANUAL)
    done = JobFactory(campaign=campaign, status=JobStatus.PUBLISHED)
    html = marketer_client.get(reverse("publishing:campaign-detail", args=[campaign.pk])).content.decode()

    def buttons(job):
        row = html[html.index(f'data-job="{job.pk}"'):]
        row = row[:row.index("</tr>")]
        return [action for action in ("retry", "mark_published", "cancel") if f'value="{action}"' in row]

    assert buttons(failed) == ["retry", "cancel"]
    assert buttons(manual) == ["mark_published", "cancel"]
    assert buttons(done) == []
