import pytest

from aicmo_site.demo import seed_users
from publishing import demo
from publishing.choices import ContentStatus, JobStatus
from publishing.email import demo as email_demo
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.models import Campaign, Content, PublishingJob

pytestmark = pytest.mark.django_db


def test_demo_seeds_every_state_once():
    seed_users()
    # seed_demo runs the email package's seed after publishing's (aicmo_site.registry).
    first = demo.seed()
    email_demo.seed()
    second = demo.seed()
    email_demo.seed()
    assert first.startswith("5 content created") and second.startswith("0 content created")
    statuses = set(Content.objects.values_list("status", flat=True))
    assert statuses >= {ContentStatus.DRAFT, ContentStatus.IN_REVIEW, ContentStatus.CHANGES_REQUESTED,
                        ContentStatus.SCHEDULED}
    # The spring launch (posts), last month's newsletter (history) and the November one (a draft), once each.
    assert sorted(Campaign.objects.values_list("name", flat=True)) == [
        "November newsletter", "October newsletter", "Spring launch"]
    assert dict(EmailCampaign.objects.values_list("campaign__name", "status")) == {
        "November newsletter": SendStatus.DRAFT, "October newsletter": SendStatus.COMPLETED}
    assert PublishingJob.objects.filter(status=JobStatus.SCHEDULED).count() == 4
