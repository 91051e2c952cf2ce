"""Every write of journeys. Keyword-only, each in a transaction, raising DomainError or ValidationError."""

from automation.services.enrolment import journey_enrol
from automation.services.journeys import (
    ENROLMENT_WORKFLOW,
    JOURNEY_WORKFLOW,
    journey_activate,
    journey_archive,
    journey_check,
    journey_create,
    journey_pause,
    journey_remove_contact,
    journey_update,
    journey_version_create,
    journey_version_migrate,
)
from automation.services.person_tasks import task_mark_done
from automation.services.runner import journeys_event_waits_release, journeys_run_batch, journeys_run_due
from automation.services.test_mode import journey_test_follow, journey_test_start
from automation.services.triggers import (
    journey_exits_apply,
    journey_import_entries,
    journeys_date_entries_apply,
    journeys_tag_entries,
    journeys_triggers_apply,
)

__all__ = [
    "ENROLMENT_WORKFLOW", "JOURNEY_WORKFLOW", "journey_activate", "journey_archive", "journey_check",
    "journey_create", "journey_enrol",
    "journey_exits_apply", "journey_import_entries", "journey_pause", "journey_remove_contact",
    "journey_test_follow", "journey_test_start",
    "journey_update", "journey_version_create", "journey_version_migrate", "journeys_date_entries_apply",
    "journeys_event_waits_release", "journeys_run_batch", "journeys_run_due", "journeys_tag_entries",
    "journeys_triggers_apply",
    "task_mark_done",
]
