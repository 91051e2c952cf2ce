from media.models.assets import Asset, AssetReview, AssetTag, Library, Rendition
from media.models.usage import AssetPerformance, AssetUsage

__all__ = ["Asset", "AssetPerformance", "AssetReview", "AssetTag", "AssetUsage", "Library", "Rendition"]
