
import pytest

from aicmo_site.models import BackgroundRun
from aicmo_site.testing.worker import wait_for
from media.models import Rendition
from media.services import asset_upload
from media.tests import images
from media.tests.factories import LibraryFactory, UserFactory


@pytest.mark.worker
def test_upload_gets_its_renditions_from_a_real_qcluster(qcluster):
    library, user = LibraryFactory(), UserFactory()
    cluster = qcluster()
    asset, created, _ = asset_upload(
        library=library, file=images.upload(images.jpeg_bytes(1400, 1000, gps=True), "team.jpg"), uploaded_by=user
    )
    assert created
    try:
        wait_for(lambda: Rendition.objects.filter(asset=asset).count() == 11, timeout=60, message="renditions")
    except AssertionError:
        raise AssertionError(cluster.output()[-3000:])
    thumbnail = Rendition.objects.get(asset=asset, preset="thumbnail")
    assert (thumbnail.width, thumbnail.height) == (320, 229)
    assert thumbnail.file.storage.exists(thumbnail.file.name)
    run = wait_for(lambda: BackgroundRun.objects.filter(kind="renditions", status="completed").first(), timeout=30,
                   message="the renditions run to complete")
    assert (run.requested_by, run.done, run.total, run.result) == (user, 11, 11, {"renditions_made": 11})
    assert run.label == f"Renditions of {asset.name}" and run.link == f"/media/library/{asset.pk}/"
