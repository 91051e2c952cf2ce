import pytest

from aicmo_site.demo import seed_users
from publishing import demo
from publishing.choices import ContentStatus, JobStatus
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
    assert Campaign.objects.count() == 1
    assert PublishingJob.objects.filter(status=JobStatus.SCHEDULED).count() == 4
