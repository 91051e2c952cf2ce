from datetime import timedelta

import pytest
from django.utils import timezone

from aicmo_site.errors import DomainError
from aicmo_site.roles import APPROVER, MARKETER
from media.models import AssetUsage
from media.tests.factories import AssetFactory
from publishing.services import (
    campaign_activate,
    campaign_create,
    content_approve,
    content_create,
    content_submit,
    version_attach_media,
    version_errors,
    versions_generate,
)
from publishing.tests.factories import ChannelFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def instagram_version(make_user):
    author = make_user("author", role=MARKETER)
    content = content_create(by=author, title="Launch", body="We shipped.")
    (version,) = versions_generate(content=content, kinds=["instagram"])
    return version


def test_attaching_an_approved_asset_records_its_use_and_satisfies_instagram(instagram_version, api_as):
    asset = AssetFactory(status="approved")
    client = api_as(MARKETER, "attacher")
    response = client.post(f"/api/versions/{instagram_version.pk}/media/", {"assets": [asset.pk]})
    assert response.status_code == 200 and response.data["media"] == [asset.pk]
    usage = AssetUsage.objects.get(asset=asset)
    assert (usage.used_in_kind, usage.used_in_id, usage.channel, usage.count) == (
        "content_version", str(instagram_version.pk), "instagram", 1)
    assert version_errors(instagram_version) == []


def test_an_asset_not_yet_approved_cannot_be_attached(instagram_version):
    asset = AssetFactory(status="draft")
    with pytest.raises(DomainError) as error:
        version_attach_media(version=instagram_version, assets=[asset])
    assert error.value.code == "asset_not_approved"
    assert instagram_version.media.count() == 0


def test_rights_expiring_before_the_post_goes_out_block_activation(instagram_version, make_user):
    content = instagram_version.content
    asset = AssetFactory(status="approved", rights_expire_on=timezone.localdate() + timedelta(days=3))
    version_attach_media(version=instagram_version, assets=[asset])
    author = content.author
    content_submit(content=content, by=author)
    content_approve(content=content, by=make_user("reviewer", role=APPROVER))
    campaign = campaign_create(by=author, name="Later", starts_at=timezone.now() + timedelta(days=10),
                               contents=[content], channels=[ChannelFactory(kind="instagram")])
    with pytest.raises(DomainError) as error:
        campaign_activate(campaign=campaign, by=author)
    (problem,) = error.value.extra["problems"]["Launch / instagram"]
    assert "usage rights" in problem
