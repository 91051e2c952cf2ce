"""django-q2 entry points: ids in, services do the work, safe to run twice."""

from media.services import asset_renditions_generate as _generate


def asset_renditions_generate(asset_id: int) -> int:
    return _generate(asset_id=asset_id)
