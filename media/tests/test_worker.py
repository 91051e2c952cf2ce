import shutil
import tempfile
from pathlib import Path

import pytest

from aicmo_site.testing.worker import wait_for
from media.models import Rendition
from media.services import asset_upload
from media.tests import images
from media.tests.factories import LibraryFactory, UserFactory


@pytest.mark.worker
def test_upload_gets_its_renditions_from_a_real_qcluster(qcluster, settings, request):
    library, user = LibraryFactory(), UserFactory()
    cluster = qcluster()
    # The test settings name MEDIA_ROOT after the process id, so the worker (its own process) has
    # its own; the upload goes there so the worker finds the file.
    worker_media = Path(tempfile.gettempdir()) / f"aicmo-test-media-{cluster.process.pid}"
    settings.MEDIA_ROOT = str(worker_media)
    request.addfinalizer(lambda: shutil.rmtree(worker_media, ignore_errors=True))
    asset, created, _ = asset_upload(
        library=library, file=images.upload(images.jpeg_bytes(1400, 1000, gps=True), "team.jpg"), uploaded_by=user
    )
    assert created
    try:
        wait_for(lambda: Rendition.objects.filter(asset=asset).count() == 10, timeout=60, message="renditions")
    except AssertionError:
        raise AssertionError(cluster.output()[-3000:])
    thumbnail = Rendition.objects.get(asset=asset, preset="thumbnail")
    assert (thumbnail.width, thumbnail.height) == (320, 229)
    assert thumbnail.file.storage.exists(thumbnail.file.name)
