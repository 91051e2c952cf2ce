from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import IntegrityError
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.roles import APPROVER, MARKETER
from crm.tests.factories import ContactFactory, TagFactory
from gateways.capabilities import Capability
from gateways.services import account_create
from publishing.choices import SEND_STATUSES_UNDER_WAY, CampaignStatus, ContentStatus, JobStatus
from publishing.email.choices import SendStatus
from publishing.email.services import email_campaign_cancel, email_campaign_complete_if_done
from publishing.models import Campaign, PublishingJob
from publishing.selectors import campaign_audience
from publishing.services import (
    campaign_activate,
    campaign_cancel,
    campaign_create,
    campaign_pause,
    campaign_resume,
    campaign_update,
    content_approve,
    content_create,
    content_submit,
    job_retry,
)
from publishing.services.campaign_workflow import campaign_complete_if_done
from publishing.tests.email.factories import EmailCampaignFactory
from publishing.tests.factories import CampaignFactory, ChannelFactory, JobFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(make_user):
    return make_user("author", role=MARKETER), make_user("reviewer", role=APPROVER)


def approved(people, title="Launch", **fields):
    author, reviewer = people
    content = content_create(by=author, title=title, body="We shipped.", tags=["launch"], **fields)
    content_submit(content=content, by=author)
    return content_approve(content=content, by=reviewer)


def test_activation_creates_one_job_per_content_and_channel_at_its_time(people):
    first, second = approved(people, "One"), approved(people, "Two")
    later = timezone.now() + timedelta(days=2)
    starts = timezone.now() + timedelta(hours=1)
    channels = [ChannelFactory(kind="linkedin"), ChannelFactory(kind="x"), ChannelFactory(kind="linkedin")]
    campaign = campaign_create(by=people[0], name="Spring", starts_at=starts, contents=[first, (second, later)],
                               channels=channels)
    campaign = campaign_activate(campaign=campaign, by=people[0])
    assert campaign.status == CampaignStatus.SCHEDULED
    jobs = PublishingJob.objects.filter(campaign=campaign)
    assert jobs.count() == 6
    assert set(jobs.filter(content=second).values_list("scheduled_at", flat=True)) == {later}
    assert set(jobs.filter(content=first).values_list("scheduled_at", flat=True)) == {starts}
    # Two LinkedIn accounts share one LinkedIn version of each content.
    assert jobs.filter(content=first, channel__kind="linkedin").values("version").distinct().count() == 1
    first.refresh_from_db()
    assert first.status == ContentStatus.SCHEDULED


def test_database_refuses_a_second_job_for_the_same_campaign_content_and_channel(people):
    content = approved(people)
    campaign = campaign_create(by=people[0], name="C", starts_at=timezone.now(), contents=[content],
                               channels=[ChannelFactory(kind="slack")])
    campaign_activate(campaign=campaign, by=people[0])
    job = PublishingJob.objects.get()
    with pytest.raises(IntegrityError):
        PublishingJob.objects.create(campaign=campaign, content=content, channel=job.channel, version=job.version,
                                     scheduled_at=job.scheduled_at, due_at=job.due_at)


def test_activation_is_refused_with_every_problem_named(people):
    draft = content_create(by=people[0], title="Draft piece", body="x")
    good = approved(people, "Approved piece")
    campaign = campaign_create(by=people[0], name="C", starts_at=timezone.now(), contents=[draft, good],
                               channels=[ChannelFactory(kind="instagram")])
    with pytest.raises(DomainError) as error:
        campaign_activate(campaign=campaign, by=people[0])
    problems = error.value.extra["problems"]
    assert problems["Draft piece"] == ["Not approved yet (Draft)."]
    assert problems["Approved piece / instagram"] == ["Instagram: a post needs at least one image or video."]
    assert PublishingJob.objects.count() == 0


def test_activation_needs_a_provider_that_can_post_to_each_channel(people):
    placeholder = account_create(capability=Capability.CHANNEL_POSTING, adapter="noop_channel_posting",
                                 name="Demo: no posting")
    by_hand = account_create(capability=Capability.CHANNEL_POSTING, adapter="manual_linkedin",
                             name="LinkedIn (by hand)")
    mastodon = ChannelFactory(name="Mastodon", kind="mastodon", provider_account=placeholder)
    linkedin = ChannelFactory(name="LinkedIn", kind="linkedin", provider_account=by_hand)
    campaign = campaign_create(by=people[0], name="C", starts_at=timezone.now(), contents=[approved(people)],
                               channels=[mastodon, linkedin, ChannelFactory(name="Website", kind="website")])

    with pytest.raises(DomainError) as error:
        campaign_activate(campaign=campaign, by=people[0])

    assert error.value.extra["problems"]["campaign"] == [
        "Mastodon: No real channel posting provider is configured: Demo: no posting does nothing real. "
        "Add a channel posting account in Provider accounts."]
    assert error.value.extra["fix_url"] == "/providers/new/?capability=channel_posting"
    assert PublishingJob.objects.count() == 0

    campaign_update(campaign=campaign, channels=[linkedin])
    assert campaign_activate(campaign=campaign, by=people[0]).status == CampaignStatus.RUNNING


def test_an_empty_campaign_cannot_be_activated(people):
    campaign = campaign_create(by=people[0], name="Empty")
    with pytest.raises(DomainError) as error:
        campaign_activate(campaign=campaign, by=people[0])
    assert error.value.extra["problems"]["campaign"][:2] == [
        "Add at least one content.", "Choose at least one channel."]


def test_pause_resume_and_cancel_move_the_jobs(people):
    content = approved(people)
    campaign = campaign_create(by=people[0], name="C", starts_at=timezone.now(), contents=[content],
                               channels=[ChannelFactory(kind="slack"), ChannelFactory(kind="linkedin")])
    campaign = campaign_activate(campaign=campaign, by=people[0])
    assert campaign.status == CampaignStatus.RUNNING
    campaign_pause(campaign=campaign, by=people[0])
    assert set(PublishingJob.objects.values_list("status", flat=True)) == {JobStatus.PAUSED}
    with pytest.raises(DomainError):
        campaign_pause(campaign=campaign, by=people[0])
    campaign = campaign_resume(campaign=campaign, by=people[0])
    assert campaign.status == CampaignStatus.RUNNING
    assert set(PublishingJob.objects.values_list("status", flat=True)) == {JobStatus.SCHEDULED}
    campaign = campaign_cancel(campaign=campaign, by=people[0])
    assert set(PublishingJob.objects.values_list("status", flat=True)) == {JobStatus.CANCELED}
    assert list(campaign.events.values_list("to_status", flat=True)) == ["canceled", "running", "paused", "running"]


def test_only_a_draft_campaign_can_be_changed_and_the_audience_is_checked(people):
    campaign = campaign_create(by=people[0], name="C", audience={"domains": ["acme.com"], "tag_ids": [3]})
    assert campaign.audience == {"domains": ["acme.com"], "tag_ids": [3]}
    with pytest.raises(DomainError):
        campaign_update(campaign=campaign, audience={"planets": ["mars"]})
    campaign_cancel(campaign=campaign, by=people[0])
    with pytest.raises(DomainError) as error:
        campaign_update(campaign=campaign, name="New")
    assert error.value.code == "not_draft"


def test_campaign_completes_when_every_job_ended_and_failed_jobs_can_be_retried(people, settings):
    content = approved(people)
    campaign = campaign_create(by=people[0], name="C", starts_at=timezone.now(), contents=[content],
                               channels=[ChannelFactory(kind="website")])
    campaign_activate(campaign=campaign, by=people[0])
    call_command("publish_due")
    campaign.refresh_from_db()
    content.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert content.status == ContentStatus.PUBLISHED
    with pytest.raises(DomainError):
        job_retry(job=PublishingJob.objects.get())


def test_publish_due_command_reports_what_it_did(people, capsys):
    content = approved(people)
    campaign = campaign_create(by=people[0], name="C", starts_at=timezone.now(), contents=[content],
                               channels=[ChannelFactory(kind="linkedin")])
    campaign_activate(campaign=campaign, by=people[0])
    call_command("publish_due")
    assert "awaiting_manual 1" in capsys.readouterr().out
    call_command("publish_due")
    assert "recovered 0" in capsys.readouterr().out


def test_publish_due_refuses_bad_arguments():
    with pytest.raises(CommandError):
        call_command("publish_due", "--limit", "0")


def test_campaign_audience_resolves_contacts_tags_and_domains_once(people):
    tag = TagFactory()
    tagged = ContactFactory(email="ann@acme.com")
    tagged.tags.add(tag)
    by_domain = ContactFactory(email="bob@globex.com")
    chosen = ContactFactory(email="cy@initech.com")
    ContactFactory(email="nobody@else.com")
    campaign = campaign_create(by=people[0], name="C", audience={
        "tag_ids": [tag.pk], "domains": ["globex.com", "acme.com"], "contact_ids": [chosen.pk]})
    assert set(campaign_audience(campaign=campaign)) == {tagged, by_domain, chosen}


def test_urgent_content_makes_urgent_jobs(people):
    urgent, normal = approved(people, "Outage notice", urgent=True), approved(people, "Newsletter")
    campaign = campaign_create(by=people[0], name="Now", starts_at=timezone.now(), contents=[urgent, normal],
                               channels=[ChannelFactory(kind="slack")])

    campaign_activate(campaign=campaign, by=people[0])

    assert dict(PublishingJob.objects.values_list("content__title", "urgent")) == {
        "Outage notice": True, "Newsletter": False}


def test_a_campaign_whose_posts_are_out_waits_for_its_email_send_to_end():
    campaign = CampaignFactory(status=CampaignStatus.RUNNING, activated_at=timezone.now())
    JobFactory(campaign=campaign, status=JobStatus.PUBLISHED)
    send = EmailCampaignFactory(campaign=campaign, status=SendStatus.SENDING)

    campaign_complete_if_done(campaign_id=campaign.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.RUNNING  # the A/B test or the sending is still under way

    assert email_campaign_complete_if_done(email_campaign_id=send.pk)
    campaign.refresh_from_db()
    assert campaign.status == CampaignStatus.COMPLETED
    assert campaign.events.order_by("-id").first().note == "Every job and send ended"


def test_a_canceled_send_lets_its_campaign_complete():
    campaign = CampaignFactory(status=CampaignStatus.RUNNING, activated_at=timezone.now())
    JobFactory(campaign=campaign, status=JobStatus.PUBLISHED)
    send = EmailCampaignFactory(campaign=campaign, status=SendStatus.PAUSED)
    campaign_complete_if_done(campaign_id=campaign.pk)
    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.RUNNING

    email_campaign_cancel(email_campaign=send)

    assert Campaign.objects.get(pk=campaign.pk).status == CampaignStatus.COMPLETED


def test_the_send_statuses_a_campaign_waits_for_are_the_email_package_s():
    assert set(SEND_STATUSES_UNDER_WAY) == {SendStatus.SENDING, SendStatus.PAUSED}
