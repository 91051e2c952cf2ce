"""Reads shared by the API, the admin and the back office."""

from django.db.models import Count, Exists, F, FloatField, Max, OuterRef, Prefetch, Q, Sum
from django.db.models.functions import Cast, NullIf

from media.choices import AssetKindChoices, AssetStatusChoices, ReviewActionChoices
from media.filters import ASSET_SORTS, AssetFilterSet
from media.models import Asset, AssetPerformance, AssetUsage, Library, Rendition
from media.services.renditions import rendition_targets, source_key


def asset_queryset():
    in_use = AssetUsage.objects.filter(asset=OuterRef("pk"), count__gt=0)
    return (
        Asset.objects.select_related("library", "uploaded_by")
        .prefetch_related("tags", Prefetch("renditions", queryset=Rendition.objects.order_by("preset", "format")))
        .annotate(in_use=Exists(in_use))
    )


def asset_list(*, filters=None, sort: str = "newest"):
    """Filtered, sorted assets with library, tags and renditions loaded in a fixed number of queries.
    Returns (queryset, filterset) so pages can show the filter form and its errors."""
    filterset = AssetFilterSet(filters or {}, queryset=asset_queryset())
    queryset = filterset.qs if filterset.is_valid() else Asset.objects.none()
    return queryset.order_by(*ASSET_SORTS.get(sort, ASSET_SORTS["newest"])), filterset


def assets_in_review():
    """Assets waiting for an approver, oldest submission first (waiting_since)."""
    return (
        Asset.objects.filter(status=AssetStatusChoices.IN_REVIEW)
        .select_related("library", "uploaded_by")
        .prefetch_related(Prefetch("renditions", queryset=Rendition.objects.order_by("preset", "format")))
        .annotate(waiting_since=Max("reviews__at", filter=Q(reviews__action=ReviewActionChoices.SUBMIT)))
        .order_by(F("waiting_since").asc(nulls_first=True), "pk")
    )


def assets_approved(*, search: str = ""):
    """Approved assets, the only ones content may use, by name, with their thumbnails fetched alongside;
    `search` matches each word in the name or a tag."""
    thumbnails = Rendition.objects.filter(preset="thumbnail").order_by("format")
    assets = (Asset.objects.filter(status=AssetStatusChoices.APPROVED)
              .prefetch_related(Prefetch("renditions", queryset=thumbnails)).order_by("name", "pk"))
    for word in search.split()[:5]:
        tagged = Asset.tags.through.objects.filter(asset=OuterRef("pk"), assettag__name__icontains=word)
        assets = assets.filter(Q(name__icontains=word) | Q(Exists(tagged)))
    return assets


def library_list():
    return Library.objects.select_related("owner").annotate(asset_count=Count("assets")).order_by("name")


def asset_usage(*, asset: Asset):
    return AssetUsage.objects.filter(asset=asset).order_by("-count", "-last_used_at")


def _with_ctr(queryset):
    return queryset.annotate(
        ctr=Cast(F("total_clicks"), FloatField()) / NullIf(Cast(F("total_impressions"), FloatField()), 0.0)
    )


def asset_performance_summary(*, asset: Asset):
    """Totals per channel and campaign, with click-through rate, computed by the database."""
    return _with_ctr(
        AssetPerformance.objects.filter(asset=asset).values("channel", "campaign_id")
        .annotate(
            total_impressions=Sum("impressions"), total_clicks=Sum("clicks"), total_conversions=Sum("conversions")
        )
        .order_by("channel", "campaign_id")
    )


def asset_performance_totals(*, library_id: int, min_impressions: int):
    """Per asset of a library: impressions, clicks and CTR, for assets with enough impressions."""
    return _with_ctr(
        AssetPerformance.objects.filter(asset__library_id=library_id).values("asset_id")
        .annotate(total_impressions=Sum("impressions"), total_clicks=Sum("clicks"))
        .filter(total_impressions__gte=min_impressions)
    )



def images_without_thumbnail(*, limit: int = 200) -> list[int]:
    has_thumbnail = Rendition.objects.filter(asset=OuterRef("pk"), preset="thumbnail")
    return list(
        Asset.objects.filter(kind=AssetKindChoices.IMAGE).exclude(Exists(has_thumbnail))
        .order_by("pk").values_list("pk", flat=True)[:limit]
    )


def asset_rendition_progress(*, asset: Asset) -> dict | None:
    """How many of an image's renditions are made from its current file and focal point, out of
    those it should have (a new focal point outdates the crops until the worker remakes them).
    Reads the renditions already prefetched by asset_queryset: no query of its own."""
    targets = rendition_targets(asset)
    if not targets:
        return None
    key = source_key(asset)
    current = {(r.preset, r.format) for r in asset.renditions.all() if r.source_key == key}
    done = sum((target.preset, target.format) in current for target in targets)
    return {"done": done, "total": len(targets), "percent": round(100 * done / len(targets)),
            "complete": done == len(targets)}
