import pytest
from django.core.files.storage import default_storage

from aicmo_site.errors import ConflictError, DomainError
from media.models import Asset, AssetTag
from media.services import (
    asset_delete,
    asset_performance_upsert,
    asset_set_focal_point,
    asset_tags_add,
    asset_update,
    asset_upload,
    asset_upload_batch,
    asset_usage_record,
    asset_usage_release,
)
from media.tests import images
from media.tests.factories import AssetFactory


def test_upload_stores_the_checked_file_with_content_type_and_tags(
    library, marketer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        asset, created, notice = asset_upload(
            library=library, file=images.upload(images.png_bytes(300, 200), "Logo.jpg"), uploaded_by=marketer,
            alt_text="Our logo", tags=["Brand", "logo "],
        )
    assert created and notice == "Uploaded."
    assert (asset.mime_type, asset.width, asset.height, asset.status) == ("image/png", 300, 200, "draft")
    assert asset.file.name.endswith(f"{asset.sha256}.png") and default_storage.exists(asset.file.name)
    assert sorted(asset.tags.values_list("name", flat=True)) == ["brand", "logo"]
    assert len(callbacks) == 1, "renditions are queued after commit"


def test_same_bytes_again_return_the_existing_asset_with_a_notice(library, marketer):
    content = images.jpeg_bytes(seed=3)
    first, _, _ = asset_upload(library=library, file=images.upload(content, "a.jpg"), uploaded_by=marketer)
    again, created, notice = asset_upload(library=library, file=images.upload(content, "b.jpg"), uploaded_by=marketer)
    assert again.pk == first.pk and not created
    assert "already stored" in notice and first.name in notice
    assert Asset.objects.count() == 1


def test_near_duplicate_is_named_in_the_notice(library, marketer):
    original, _, _ = asset_upload(
        library=library, file=images.upload(images.jpeg_bytes(400, 300, seed=5), "orig.jpg"), uploaded_by=marketer
    )
    recompressed = images.encode(images.picture(400, 300, seed=5).resize((800, 600)), "JPEG", quality=60)
    _, created, notice = asset_upload(
        library=library, file=images.upload(recompressed, "copy.jpg"), uploaded_by=marketer
    )
    assert created and "looks like" in notice and f"asset {original.pk}" in notice


def test_batch_keeps_good_files_when_one_is_refused(library, marketer):
    results = asset_upload_batch(
        library=library, uploaded_by=marketer,
        files=[images.upload(images.jpeg_bytes(seed=7), "good.jpg"), images.upload(images.SVG, "bad.svg"),
               images.upload(images.PDF, "brochure.pdf")],
    )
    assert [bool(r.asset) for r in results] == [True, False, True]
    assert results[1].error.code == "svg_refused"
    assert Asset.objects.count() == 2


def test_update_changes_metadata_and_refuses_other_fields(library):
    asset = AssetFactory(library=library)
    asset_update(asset=asset, alt_text="Team at work", tags=["people"])
    assert asset.alt_text == "Team at work" and list(asset.tags.values_list("name", flat=True)) == ["people"]
    with pytest.raises(DomainError):
        asset_update(asset=asset, status="approved")


def test_bulk_tagging_adds_tags_once(library):
    assets = AssetFactory.create_batch(3, library=library)
    assert asset_tags_add(assets=assets, tags=["Summer"]) == 3
    asset_tags_add(assets=assets, tags=["summer"])
    assert AssetTag.objects.get(name="summer").assets.count() == 3


def test_focal_point_outside_the_image_is_refused(library):
    asset = AssetFactory(library=library)
    with pytest.raises(DomainError):
        asset_set_focal_point(asset=asset, x=1.2, y=0.5)
    asset_set_focal_point(asset=asset, x=0.2, y=0.8)
    asset.refresh_from_db()
    assert (asset.focal_x, asset.focal_y) == (0.2, 0.8)


def test_asset_in_use_cannot_be_deleted_until_released(library):
    asset = AssetFactory(library=library)
    asset_usage_record(asset=asset, used_in_kind="content_version", used_in_id=9, campaign_id=4, channel="x")
    asset_usage_record(asset=asset, used_in_kind="content_version", used_in_id=9, channel="x")
    with pytest.raises(ConflictError) as caught:
        asset_delete(asset=asset)
    assert caught.value.code == "asset_in_use"
    usage = asset_usage_release(asset=asset, used_in_kind="content_version", used_in_id=9, channel="x")
    assert usage.count == 1 and usage.campaign_id == 4
    asset_usage_release(asset=asset, used_in_kind="content_version", used_in_id=9, channel="x")
    asset_delete(asset=asset)
    assert not Asset.objects.filter(pk=asset.pk).exists()


def test_performance_upsert_sets_figures_and_is_idempotent(library):
    asset = AssetFactory(library=library)
    rows = [
        {"asset_id": asset.pk, "channel": "linkedin", "campaign_id": 3, "day": "2026-11-01", "impressions": 100,
         "clicks": 5},
        {"asset": asset, "channel": "linkedin", "campaign_id": None, "day": "2026-11-01", "impressions": 50},
    ]
    assert asset_performance_upsert(rows=rows) == {"created": 2, "updated": 0}
    assert asset_performance_upsert(rows=rows) == {"created": 0, "updated": 2}
    assert asset.performance.count() == 2


def test_performance_rows_with_bad_figures_or_unknown_assets_are_refused(library):
    asset = AssetFactory(library=library)
    with pytest.raises(DomainError):
        asset_performance_upsert(rows=[{"asset_id": asset.pk, "channel": "x", "day": "2026-11-01", "clicks": -1}])
    with pytest.raises(DomainError) as caught:
        asset_performance_upsert(rows=[{"asset_id": 999999, "channel": "x", "day": "2026-11-01"}])
    assert caught.value.extra == {"asset_ids": [999999]}


def test_documents_are_stored_by_streaming_with_their_hash(library, marketer):
    asset, created, _ = asset_upload(library=library, file=images.upload(images.PDF, "brochure.pdf"),
                                     uploaded_by=marketer)
    with asset.file.open("rb") as handle:
        assert handle.read() == images.PDF
    assert (asset.kind, asset.size_bytes, asset.file.name[-4:]) == ("document", len(images.PDF), ".pdf")


def test_same_bytes_stored_by_a_concurrent_upload_return_that_asset(library, marketer, monkeypatch):
    from django.core.files.base import ContentFile

    from media.services import assets as assets_module

    content = images.jpeg_bytes(seed=11)
    rival = {}

    def racing_content_file(data):
        # Another request stores the same bytes between our duplicate check and our insert.
        rival["asset"] = AssetFactory(library=library, content=content)
        return ContentFile(data)

    monkeypatch.setattr(assets_module, "ContentFile", racing_content_file)
    asset, created, notice = asset_upload(library=library, file=images.upload(content, "a.jpg"), uploaded_by=marketer)
    assert asset.pk == rival["asset"].pk and not created and "already stored" in notice
    assert Asset.objects.count() == 1
