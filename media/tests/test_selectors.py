from media.selectors import asset_list, asset_performance_summary
from media.services import asset_tags_add, asset_usage_record
from media.tests.factories import AssetFactory, AssetPerformanceFactory, LibraryFactory


def test_asset_list_filters_by_library_tag_kind_status_orientation_and_search(library):
    other = LibraryFactory(name="Other")
    beach = AssetFactory(library=library, name="Beach party", status="approved")
    AssetFactory(library=library, name="Office", orientation="portrait")
    AssetFactory(library=other, name="Beach far away")
    asset_tags_add(assets=[beach], tags=["summer"])

    def names(**filters):
        queryset, _ = asset_list(filters=filters, sort="name")
        return [asset.name for asset in queryset]

    assert names(library=library.pk) == ["Beach party", "Office"]
    assert names(tag="Summer") == ["Beach party"]
    assert names(status="approved") == ["Beach party"]
    assert names(orientation="portrait") == ["Office"]
    assert names(q="beach") == ["Beach far away", "Beach party"]
    assert names(q="summer") == ["Beach party"]
    assert names(kind="video") == []


def test_asset_list_marks_assets_in_use_in_a_fixed_number_of_queries(library, django_assert_num_queries):
    assets = AssetFactory.create_batch(3, library=library)
    asset_usage_record(asset=assets[0], used_in_kind="campaign", used_in_id=1)
    with django_assert_num_queries(3):
        rows = list(asset_list()[0])
        [(a.library.name, list(a.tags.all()), list(a.renditions.all())) for a in rows]
    assert {a.pk: a.in_use for a in rows} == {assets[0].pk: True, assets[1].pk: False, assets[2].pk: False}


def test_performance_summary_adds_up_per_channel_and_campaign(library):
    asset = AssetFactory(library=library)
    AssetPerformanceFactory(asset=asset, channel="x", campaign_id=1, day="2026-11-01", impressions=100, clicks=5)
    AssetPerformanceFactory(asset=asset, channel="x", campaign_id=1, day="2026-11-02", impressions=300, clicks=15)
    AssetPerformanceFactory(asset=asset, channel="linkedin", day="2026-11-01", impressions=0, clicks=0)
    rows = {(r["channel"], r["campaign_id"]): r for r in asset_performance_summary(asset=asset)}
    assert rows[("x", 1)]["total_impressions"] == 400 and rows[("x", 1)]["ctr"] == 0.05
    assert rows[("linkedin", None)]["ctr"] is None
