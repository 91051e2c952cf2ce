from media.models import Rendition
from media.tasks import asset_renditions_generate, renditions_catch_up
from media.tests.factories import AssetFactory


def test_task_is_idempotent(library):
    asset = AssetFactory(library=library)
    assert asset_renditions_generate(asset.pk) > 0
    assert asset_renditions_generate(asset.pk) == 0


def test_catch_up_renders_images_without_thumbnail_and_survives_a_broken_one(library):
    broken = AssetFactory(library=library, content=b"garbage")
    missing = AssetFactory(library=library)
    document = AssetFactory(library=library, kind="document", mime_type="application/pdf", width=None, height=None)
    assert renditions_catch_up() == 1
    assert Rendition.objects.filter(asset=missing, preset="thumbnail").exists()
    assert not Rendition.objects.filter(asset__in=[broken, document]).exists()
