import pytest

from aicmo_site.demo import seed_users
from publishing import demo
from publishing.choices import ContentStatus, JobStatus
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.models import Campaign, Content, PublishingJob

pytestmark = pytest.mark.django_db


def test_demo_seeds_every_state_once():
    seed_users()
    first = demo.seed()
    second = demo.seed()
    assert first.startswith("5 content created") and second.startswith("0 content created")
    statuses = set(Content.objects.values_list("status", flat=True))
    assert statuses >= {ContentStatus.DRAFT, ContentStatus.IN_REVIEW, ContentStatus.CHANGES_REQUESTED,
                        ContentStatus.SCHEDULED}
    # The spring launch (posts) and the November newsletter (a draft email send), once each.
    assert sorted(Campaign.objects.values_list("name", flat=True)) == ["November newsletter", "Spring launch"]
    assert EmailCampaign.objects.get().status == SendStatus.DRAFT
    assert PublishingJob.objects.filter(status=JobStatus.SCHEDULED).count() == 4
