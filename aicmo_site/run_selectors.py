"""Reads of background runs, shared by the "Background work" page and /api/runs/."""

from django.db.models import QuerySet
from django.db.models.functions import Coalesce

from aicmo_site.models import RUN_TERMINAL, BackgroundRun


def runs_list() -> QuerySet[BackgroundRun]:
    return BackgroundRun.objects.select_related("requested_by").order_by("-created_at", "-id")


def runs_stuck(*, before) -> QuerySet[BackgroundRun]:
    """Open runs, queued or running, that have not moved since `before`, each with `last_progress`:
    a run queued that long means no worker took it."""
    return (BackgroundRun.objects.exclude(status__in=RUN_TERMINAL)
            .annotate(last_progress=Coalesce("progressed_at", "started_at", "created_at"))
            .filter(last_progress__lt=before).order_by("last_progress"))
