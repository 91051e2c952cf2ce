"""django-q2 entry points: ids in, services do the work, safe to run twice."""

import logging

from aicmo_site.runs import run_work
from media.cleaning import MetadataNotRemovable
from media.selectors import images_without_thumbnail
from media.services import asset_renditions_generate as _generate
from media.services.renditions import asset_renditions_work

logger = logging.getLogger(__name__)


def asset_renditions_run(run_id: int, asset_id: int) -> dict:
    """A renditions run; a finished run is left alone, so a repeated task does nothing."""
    run = run_work(run_id, lambda _run: asset_renditions_work(asset_id=asset_id))
    return {"run": run_id, "status": run.status if run else "missing"}


def asset_renditions_generate(asset_id: int) -> int:
    """Tasks queued before renditions had runs still find their entry point."""
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
