import datetime

from django.utils import timezone

from media.models import Asset
from media.suggestions import asset_suggestions
from media.tests.factories import AssetFactory, AssetPerformanceFactory, AssetUsageFactory


def codes(asset):
    return [suggestion.code for suggestion in asset_suggestions(asset=asset)]


def test_missing_alt_text_and_wrong_aspect_ratio_are_suggested_with_figures(library):
    asset = AssetFactory(library=library, alt_text="", width=3000, height=1000)
    suggestions = asset_suggestions(asset=asset)
    assert "missing_alt_text" in [s.code for s in suggestions]
    square = next(s for s in suggestions if s.figures.get("preset") == "instagram_square")
    assert square.figures == {"preset": "instagram_square", "asset_ratio": 3.0, "preset_ratio": 1.0,
                              "kept_share": 0.333}


def test_file_too_large_for_a_channel(library, settings):
    settings.MEDIA_CHANNEL_MAX_BYTES = {"x": 1000}
    asset = AssetFactory(library=library)
    [suggestion] = [s for s in asset_suggestions(asset=asset) if s.code == "too_large_for_channel"]
    assert suggestion.figures == {"channel": "x", "size_bytes": asset.size_bytes, "limit_bytes": 1000}


def test_rights_expiring_within_the_warning_window(library, settings):
    settings.MEDIA_RIGHTS_WARNING_DAYS = 10
    soon = AssetFactory(library=library, rights_expire_on=timezone.localdate() + datetime.timedelta(days=5))
    later = AssetFactory(library=library, rights_expire_on=timezone.localdate() + datetime.timedelta(days=50))
    assert "rights_expiring" in codes(soon) and "rights_expiring" not in codes(later)


def test_unused_for_the_configured_days(library, settings):
    settings.MEDIA_UNUSED_DAYS = 30
    old = AssetFactory(library=library)
    Asset.objects.filter(pk=old.pk).update(created_at=timezone.now() - datetime.timedelta(days=60))
    old.refresh_from_db()
    assert "unused" in codes(old)
    AssetUsageFactory(asset=old, first_used_at=timezone.now(), last_used_at=timezone.now())
    assert "unused" not in codes(old)
    assert "unused" not in codes(AssetFactory(library=library))


def test_near_duplicate_is_suggested_and_different_pictures_are_not(library):
    first = AssetFactory(library=library, perceptual_hash="f0f0f0f0f0f0f0f0")
    AssetFactory(library=library, perceptual_hash="f0f0f0f0f0f0f0f1")
    AssetFactory(library=library, perceptual_hash="0f0f0f0f0f0f0f0f")
    [suggestion] = [s for s in asset_suggestions(asset=first) if s.code == "near_duplicate"]
    assert suggestion.figures["distance"] == 1


def test_ctr_far_below_the_library_median_once_enough_impressions(library, settings):
    settings.MEDIA_MIN_IMPRESSIONS_FOR_CTR = 500
    assets = AssetFactory.create_batch(4, library=library)
    for asset, clicks in zip(assets, (30, 25, 20, 2), strict=True):
        AssetPerformanceFactory(asset=asset, impressions=1000, clicks=clicks)
    quiet = AssetFactory(library=library)
    AssetPerformanceFactory(asset=quiet, impressions=100, clicks=0)
    [low] = [s for s in asset_suggestions(asset=assets[3]) if s.code == "low_ctr"]
    assert low.figures["ctr"] == 0.002 and low.figures["library_median_ctr"] == 0.0225
    assert low.figures["assets_compared"] == 4
    assert "low_ctr" not in codes(assets[0]) and "low_ctr" not in codes(quiet)
