"""Stuck work: a send, campaign, job, import, enrichment or background run still open (queued or
running) with no progress for STUCK_AFTER_MINUTES. Background runs are read here from their shared
table; each domain app finds the rest of its own in a selector named `stuck_work` (selectors.py);
the home page gathers them here."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from aicmo_site.registry import app_modules
from aicmo_site.run_selectors import runs_stuck


@dataclass(frozen=True)
class StuckWork:
    kind: str  # "Email send", "Campaign", "Enrichment run", "Import"
    name: str
    url: str
    progressed_at: datetime  # the last time it moved forward


def stuck_before() -> datetime:
    """Work whose last progress is older than this is stuck."""
    return timezone.now() - timedelta(minutes=settings.STUCK_AFTER_MINUTES)


def stuck_work_everywhere(*, before: datetime | None = None) -> list[StuckWork]:
    """Every app's stuck work, longest-stuck first; `before` defaults to STUCK_AFTER_MINUTES ago."""
    before = before or stuck_before()
    found = [item for _app, module in app_modules("selectors") if hasattr(module, "stuck_work")
             for item in module.stuck_work(before=before)]
    # A run is dealt with on the page of what it is about (an import's page) when it has one.
    found += [StuckWork(run.get_kind_display(), run.label or f"Run {run.pk}",
                        run.link or reverse("run-detail", args=[run.pk]), run.last_progress)
              for run in runs_stuck(before=before)]
    return sorted(found, key=lambda item: item.progressed_at)
