"""Tasks for people: created for a whole batch by a journey's task step, marked done by their person."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from aicmo_site.errors import DomainError
from automation.models import JourneyStep, Task


def tasks_create_for_step(*, step: JourneyStep, contact_ids: list[int], now) -> int:
    """One task per contact, in one INSERT, in the runner's transaction: a batch that rolls back creates
    none, one that commits creates each once."""
    config = step.config
    days = config.get("due_in_days")
    due_on = timezone.localdate(now + timedelta(days=days)) if days is not None else None
    Task.objects.bulk_create([Task(title=config["title"], contact_id=contact_id, assignee_id=config["user_id"],
                                   due_on=due_on, step=step) for contact_id in contact_ids], batch_size=1000)
    return len(contact_ids)


@transaction.atomic
def task_mark_done(*, task: Task, by) -> Task:
    """The assignee marks it done, or someone who may change anyone's tasks; done twice stays done once."""
    if task.assignee_id != by.pk and not by.has_perm("automation.change_task"):
        raise DomainError("Only the person the task is for may mark it done.", code="not_yours")
    row = Task.objects.select_for_update().get(pk=task.pk)
    if not row.done:
        # A save, not an UPDATE: the audit log records who marked it done, from which page or token.
        row.done, row.done_at = True, timezone.now()
        row.save(update_fields=["done", "done_at"])
    task.done, task.done_at = row.done, row.done_at
    return task
