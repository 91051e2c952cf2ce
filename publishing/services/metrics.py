"""Metric snapshots per job: pulled from channels that offer them, entered by hand or imported from CSV."""

import csv
import io
import logging
from collections import defaultdict
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aicmo_site.errors import DomainError
from gateways.errors import GatewayError
from publishing import gateway
from publishing.best_times import best_times_forget
from publishing.choices import JobStatus, MetricSource
from publishing.models import Campaign, MetricSnapshot, PublishingJob
from publishing.selectors import latest_snapshots

logger = logging.getLogger(__name__)
COUNTS = ("impressions", "clicks", "engagements", "conversions")
CSV_COLUMNS = ("job_id", "taken_at", *COUNTS, "spend")


@transaction.atomic
def metric_snapshot_record(*, job: PublishingJob, taken_at: datetime | None = None, source: str = MetricSource.MANUAL,
                           by=None, raw: dict | None = None, spend=0, **counts) -> MetricSnapshot:
    """One snapshot at one time; recording the same time and source again replaces the figures."""
    unknown = set(counts) - set(COUNTS)
    if unknown:
        raise DomainError(f"Unknown metrics: {', '.join(sorted(unknown))}.", code="unknown_metric")
    values = {name: counts.get(name) or 0 for name in COUNTS}
    if any(v < 0 for v in values.values()) or Decimal(spend) < 0:
        raise DomainError("Metrics cannot be negative.", code="negative_metric")
    snapshot, _ = MetricSnapshot.objects.update_or_create(
        job=job, taken_at=taken_at or timezone.now(), source=source,
        defaults={**values, "spend": Decimal(spend), "raw": raw or {}, "created_by": by},
    )
    snapshot.full_clean()
    _campaign_spend_update(job.campaign_id)
    best_times_forget(job.channel_id)
    return snapshot


def _campaign_spend_update(campaign_id: int) -> None:
    """The campaign's spend is the sum of the newest snapshot of each of its jobs."""
    total = latest_snapshots(campaign=campaign_id).aggregate(total=Sum("spend"))["total"]
    Campaign.objects.filter(pk=campaign_id).update(spend=total or Decimal("0"))


def _row_values(row: dict) -> dict:
    taken_at = parse_datetime((row.get("taken_at") or "").strip()) if row.get("taken_at") else timezone.now()
    if taken_at is None:
        raise ValueError(f"taken_at {row.get('taken_at')!r} is not a date and time (ISO 8601)")
    if timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    values = {"taken_at": taken_at}
    for name in COUNTS:
        raw = (row.get(name) or "0").strip() or "0"
        if not raw.isdigit():
            raise ValueError(f"{name} {raw!r} is not a whole number")
        values[name] = int(raw)
    try:
        values["spend"] = Decimal((row.get("spend") or "0").strip() or "0")
    except InvalidOperation:
        raise ValueError(f"spend {row.get('spend')!r} is not a number")
    return values


def metrics_import_csv(*, text: str, by=None) -> dict:
    """Rows with job_id, taken_at, impressions, clicks, engagements, conversions, spend.
    A bad row is reported with its line number and never stops the good ones."""
    reader = csv.DictReader(io.StringIO(text))
    missing = {"job_id"} - set(reader.fieldnames or [])
    if missing:
        raise DomainError("The CSV needs a job_id column.", code="invalid_csv", extra={"columns": list(CSV_COLUMNS)})
    rows = list(reader)
    jobs = PublishingJob.objects.in_bulk([int(r["job_id"]) for r in rows if (r.get("job_id") or "").isdigit()])
    imported, errors = 0, []
    for line, row in enumerate(rows, start=2):
        job = jobs.get(int(row["job_id"])) if (row.get("job_id") or "").isdigit() else None
        if job is None:
            errors.append({"line": line, "error": f"no job {row.get('job_id')!r}"})
            continue
        try:
            values = _row_values(row)
        except ValueError as exc:
            errors.append({"line": line, "error": str(exc)})
            continue
        metric_snapshot_record(job=job, source=MetricSource.IMPORT, by=by, **values)
        imported += 1
    return {"imported": imported, "errors": errors}


def metrics_pull(*, now: datetime | None = None) -> int:
    """One snapshot per published post on channels whose API gives statistics (Dev.to), one call per
    channel account; a failing account is logged and never stops the others."""
    now = now or timezone.now()
    jobs = (PublishingJob.objects.filter(status=JobStatus.PUBLISHED).exclude(external_id="")
            .exclude(channel__provider_account=None).select_related("channel"))
    by_account: dict[int, dict[str, PublishingJob]] = defaultdict(dict)
    for job in jobs:
        by_account[job.channel.provider_account_id][job.external_id] = job
    pulled = 0
    for account_id, jobs_by_post in by_account.items():
        try:
            stats = gateway.fetch_metrics(account_id=account_id, external_ids=list(jobs_by_post))
        except (GatewayError, DomainError) as exc:
            logger.warning("Metrics of channel account %s not pulled: %s", account_id, exc)
            continue
        for item in stats:
            job = jobs_by_post.get(item.external_id)
            if job is None:
                continue
            metric_snapshot_record(
                job=job, taken_at=now, source=MetricSource.CHANNEL, raw=item.raw,
                impressions=item.impressions or 0, clicks=item.clicks or 0,
                engagements=(item.reactions or 0) + (item.comments or 0),
            )
            pulled += 1
    return pulled
