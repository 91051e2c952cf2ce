"""django-q2 entry points: they take IDs and call services; running one twice changes nothing."""

from collections import Counter

from aicmo_site.caching import cache_shared
from crm import page_anchors, selectors
from crm.services import (
    enrichment_run_process,
    enrichment_runs_waiting,
    form_confirmation_send,
    repositories_poll,
    repository_poll,
    segments_entries_refresh,
    value_tiers_recompute,
)
from crm.services.stargazers import stargazers_backfill_work
from crm.services.weather import weather_refresh


def enrichment_run_process_task(run_id: int) -> dict:
    run = enrichment_run_process(run_id=run_id)
    return {"run": run.pk, "status": run.status, "queued": run.queued, "failed": run.failed}


def enrichment_runs_resume() -> int:
    """Scheduled: picks up runs left waiting by a provider outage or a worker that died."""
    waiting = enrichment_runs_waiting()
    for run_id in waiting:
        enrichment_run_process(run_id=run_id)
    return len(waiting)


def segment_entries_announce() -> int:
    """Scheduled: announces contacts who entered segments marked "announce entries"."""
    return segments_entries_refresh()


def value_tiers_recompute_all() -> int:
    """Scheduled nightly: every contact's lifetime value and tier, in two statements."""
    return value_tiers_recompute()


def form_confirmation_send_task(submission_id: int) -> bool:
    """The double opt-in email of one form sending; a second run finds it claimed and sends nothing."""
    return form_confirmation_send(submission_id=submission_id)


def repositories_poll_task() -> dict:
    """Scheduled: today's snapshot of every watched GitHub repository (a 304 re-read costs no quota)."""
    return dict(Counter(result.status for result in repositories_poll()))


def repository_poll_task(repository_id: int) -> dict:
    """"Poll now" on one watched repository; a second run re-reads conditionally (a 304 costs no quota)."""
    result = repository_poll(repository_id=repository_id)
    return {"repository": result.repository, "status": result.status, "detail": result.detail}


def stargazers_backfill_task(run_id: int, repository_id: int) -> None:
    """A queued stargazers backfill; a finished run is left alone when the queue repeats the task."""
    stargazers_backfill_work(run_id, repository_id=repository_id)


def weather_refresh_task() -> dict:
    """Scheduled: the weather in contacts' cities; the result says what was refreshed and what was skipped."""
    return weather_refresh()


def page_anchors_number_task(filters: dict[str, list[str]]) -> int | None:
    """A contact list's positions for its far pages, queued by an early page (crm.page_anchors.anchors_queue);
    a second run finds them remembered and numbers nothing. Takes the list's filters and sort (a query string's
    values): a list has no id."""
    anchors = page_anchors.list_anchors(selectors.contacts_filtered(filters))
    return None if anchors is None else anchors.total


def page_anchors_keep_task() -> int:
    """Scheduled: numbers the contact list without a filter again in each sort the back office offers, before
    their positions expire, so that no visitor of those lists waits for a numbering. With a process's own cache
    the positions would stay in the worker's memory, where no page reads them: it numbers nothing (11-40 s of a
    worker every 4 minutes at a million contacts)."""
    if not cache_shared():
        return 0
    return sum(page_anchors.list_anchors(contacts, renumber=True) is not None
               for contacts in selectors.contact_lists_unfiltered())
