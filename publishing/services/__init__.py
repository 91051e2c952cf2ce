"""Every write of publishing. Modules by subject; names re-exported here."""

from publishing.services.analysis import (
    analysis_targets,
    content_analyses_current,
    content_analysis_request,
    content_analysis_run,
)
from publishing.services.campaign_workflow import campaign_complete_if_done, campaign_transition
from publishing.services.campaigns import (
    campaign_activate,
    campaign_cancel,
    campaign_check,
    campaign_create,
    campaign_duplicate,
    campaign_pause,
    campaign_resume,
    campaign_update,
)
from publishing.services.channels import channel_create, channel_update
from publishing.services.checks import (
    approval_blockers,
    blocking_checks_set,
    content_links_check_request,
    content_links_check_run,
    readability_targets_set,
)
from publishing.services.content import (
    available_actions,
    content_approve,
    content_archive,
    content_create,
    content_request_changes,
    content_submit,
    content_transition,
    content_update,
)
from publishing.services.jobs import (
    backoff_seconds,
    job_cancel,
    job_mark_published,
    job_reschedule,
    job_retry,
    job_transition,
)
from publishing.services.metrics import metric_snapshot_record, metrics_import_csv
from publishing.services.versions import (
    version_attach_media,
    version_errors,
    version_preview,
    version_update,
    versions_generate,
)

__all__ = [
    "analysis_targets", "approval_blockers", "available_actions", "backoff_seconds", "content_analyses_current",
    "content_analysis_request", "content_analysis_run", "content_links_check_request",
    "content_links_check_run",
    "campaign_activate", "campaign_cancel",
    "campaign_check", "campaign_complete_if_done", "campaign_create", "campaign_duplicate", "campaign_pause",
    "campaign_resume", "campaign_transition",
    "blocking_checks_set", "readability_targets_set",
    "campaign_update", "channel_create", "channel_update", "content_approve", "content_archive", "content_create",
    "content_request_changes", "content_submit", "content_transition", "content_update", "job_cancel",
    "job_mark_published", "job_reschedule", "job_retry", "job_transition", "metric_snapshot_record",
    "metrics_import_csv",
    "version_attach_media", "version_errors", "version_preview", "version_update", "versions_generate",
]
