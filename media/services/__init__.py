"""Every write to the media library goes through these services."""

from media.services.approval import (
    asset_approve,
    asset_archive,
    asset_attachable_check,
    asset_reject,
    asset_restore,
    asset_submit,
    asset_transition,
    available_actions,
)
from media.services.assets import (
    EDITABLE_FIELDS,
    asset_delete,
    asset_set_focal_point,
    asset_tags_add,
    asset_update,
    asset_upload,
    asset_upload_batch,
    library_create,
    library_update,
)
from media.services.renditions import asset_public_url, asset_renditions_generate, renditions_enqueue
from media.services.usage import asset_performance_upsert, asset_usage_record, asset_usage_release

__all__ = [
    "EDITABLE_FIELDS",
    "asset_approve", "asset_archive", "asset_attachable_check", "asset_delete", "asset_performance_upsert",
    "asset_public_url",
    "asset_reject", "asset_renditions_generate", "asset_restore", "asset_set_focal_point", "asset_submit",
    "asset_tags_add", "asset_transition", "asset_update", "asset_upload", "asset_upload_batch",
    "asset_usage_record", "asset_usage_release", "available_actions", "library_create", "library_update",
    "renditions_enqueue",
]
