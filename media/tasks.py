"""django-q2 entry points: ids in, services do the work, safe to run twice."""

import logging

from media.cleaning import MetadataNotRemovable
from media.selectors import images_without_thumbnail
from media.services import asset_renditions_generate as _generate

logger = logging.getLogger(__name__)


def asset_renditions_generate(asset_id: int) -> int:
    try:
        return _generate(asset_id=asset_id)
    except MetadataNotRemovable as error:
        # Retrying cannot help; publishing this asset is refused with the same reason (asset_public_url).
        logger.warning("No metadata-free copy of asset %s: %s", asset_id, error)
        return 0


def renditions_catch_up() -> int:
    """Remake renditions of images that have none (a worker died, a file was restored); returns
    how many images were handled. One broken image never stops the others."""
    handled = 0
    for asset_id in images_without_thumbnail():
        try:
            _generate(asset_id=asset_id)
            handled += 1
        except Exception:
            logger.exception("Renditions of asset %s failed", asset_id)
    return handled
