"""Suggestions for an asset, each with the reason and the figures behind it."""

import statistics
from dataclasses import asdict, dataclass, field
from datetime import timedelta

from django.utils import timezone

from media.conf import media_setting
from media.models import Asset, AssetUsage
from media.renditions import CHANNEL_PRESETS
from media.selectors import asset_performance_totals
from media.services.assets import near_duplicates

# A preset crop that keeps less than this share of the picture is worth a warning.
MIN_KEPT_SHARE = 0.8


@dataclass
class Suggestion:
    code: str
    message: str
    figures: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def _too_large(asset: Asset) -> list[Suggestion]:
    found = []
    for channel, limit in media_setting("MEDIA_CHANNEL_MAX_BYTES").items():
        if asset.size_bytes > limit:
            found.append(Suggestion(
                "too_large_for_channel",
                f"The file is {asset.size_bytes / 1_048_576:.1f} MB; {channel} accepts up to "
                f"{limit / 1_048_576:.0f} MB. Use a rendition for {channel}.",
                {"channel": channel, "size_bytes": asset.size_bytes, "limit_bytes": limit},
            ))
    return found


def _aspect(asset: Asset) -> list[Suggestion]:
    found = []
    ratio = asset.width / asset.height
    for preset in media_setting("MEDIA_CHANNEL_PRESETS"):
        width, height = CHANNEL_PRESETS[preset]
        wanted = width / height
        kept = min(ratio, wanted) / max(ratio, wanted)
        if kept < MIN_KEPT_SHARE:
            found.append(Suggestion(
                "wrong_aspect_ratio",
                f"The {preset.replace('_', ' ')} crop is {width}×{height} (ratio {wanted:.2f}); this image is "
                f"{ratio:.2f}, so the crop keeps {kept:.0%} of it. Check the focal point.",
                {"preset": preset, "asset_ratio": round(ratio, 3), "preset_ratio": round(wanted, 3),
                 "kept_share": round(kept, 3)},
            ))
        elif asset.width < width or asset.height < height:
            found.append(Suggestion(
                "too_small_for_preset",
                f"The {preset.replace('_', ' ')} crop needs {width}×{height}; the image is "
                f"{asset.width}×{asset.height} and will be enlarged.",
                {"preset": preset, "width": asset.width, "height": asset.height},
            ))
    return found


def _rights(asset: Asset, today) -> list[Suggestion]:
    if not asset.rights_expire_on:
        return []
    days = (asset.rights_expire_on - today).days
    if days < 0:
        return [Suggestion("rights_expired", f"The usage rights expired {-days} day(s) ago.",
                           {"rights_expire_on": asset.rights_expire_on.isoformat(), "days": days})]
    warning_days = media_setting("MEDIA_RIGHTS_WARNING_DAYS")
    if days <= warning_days:
        return [Suggestion("rights_expiring", f"The usage rights expire in {days} day(s); renew them or plan a "
                           "replacement.", {"rights_expire_on": asset.rights_expire_on.isoformat(), "days": days,
                                            "warning_days": warning_days})]
    return []


def _unused(asset: Asset, now) -> list[Suggestion]:
    days = media_setting("MEDIA_UNUSED_DAYS")
    since = now - timedelta(days=days)
    if asset.created_at > since:
        return []
    last = AssetUsage.objects.filter(asset=asset).order_by("-last_used_at").values_list("last_used_at", flat=True)
    last_used = last.first()
    if last_used and last_used > since:
        return []
    when = f"last used {last_used:%Y-%m-%d}" if last_used else "never used"
    return [Suggestion("unused", f"Not used for {days} days or more ({when}); archive it or put it to work.",
                       {"days": days, "last_used_at": last_used.isoformat() if last_used else None})]


def _low_ctr(asset: Asset) -> list[Suggestion]:
    minimum = media_setting("MEDIA_MIN_IMPRESSIONS_FOR_CTR")
    rows = list(asset_performance_totals(library_id=asset.library_id, min_impressions=minimum))
    mine = next((row for row in rows if row["asset_id"] == asset.pk), None)
    if mine is None or len(rows) < 3:
        return []
    median = statistics.median(row["ctr"] for row in rows)
    share = media_setting("MEDIA_LOW_CTR_PERCENT") / 100
    if median and mine["ctr"] < median * share:
        return [Suggestion(
            "low_ctr",
            f"Click-through rate {mine['ctr']:.2%} is far below the library's median of {median:.2%} "
            f"({mine['total_impressions']:,} impressions).",
            {"ctr": round(mine["ctr"], 5), "library_median_ctr": round(median, 5),
             "impressions": mine["total_impressions"], "clicks": mine["total_clicks"], "assets_compared": len(rows)},
        )]
    return []


def asset_suggestions(*, asset: Asset) -> list[Suggestion]:
    now = timezone.now()
    found = []
    if asset.is_image:
        found += _too_large(asset)
        if asset.width and asset.height:
            found += _aspect(asset)
        if not asset.alt_text.strip():
            found.append(Suggestion("missing_alt_text", "Add alt text so screen readers can describe the image.", {}))
        for other, distance in near_duplicates(library=asset.library, perceptual_hash=asset.perceptual_hash,
                                               exclude_pk=asset.pk):
            found.append(Suggestion(
                "near_duplicate", f"Looks like “{other.name}”; keep one of them.",
                {"asset_id": other.pk, "distance": distance},
            ))
    found += _rights(asset, timezone.localdate())
    found += _unused(asset, now)
    found += _low_ctr(asset)
    return found
