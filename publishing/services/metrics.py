"""Metric snapshots per job: pulled from channels that offer them, entered by hand or imported from CSV."""

import csv
import io
import itertools
import logging
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from aicmo_site.bounds import DB_INTEGER_MAX
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
# What MetricSnapshot's columns hold: a PositiveIntegerField is a 32-bit integer on PostgreSQL, and
# spend a DecimalField of 12 digits, 2 after the point.
COUNT_MAX = 2**31 - 1
CENT = Decimal("0.01")
SPEND_LIMIT = Decimal(10) ** 10
# Each row is written while the request waits: a larger file belongs in several uploads.
MAX_METRIC_ROWS = 10_000


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


def _whole_number(name: str, raw: str, *, most: int) -> int:
    # ASCII digits only: str.isdigit() also accepts "²" and "٣", which int() refuses or reads otherwise.
    if not (raw.isascii() and raw.isdigit()) or int(raw) > most:
        raise ValueError(f"{name} {raw!r} is not a whole number from 0 to {most:,}")
    return int(raw)


def _row_values(row: dict) -> dict:
    raw_time = (row.get("taken_at") or "").strip()
    taken_at = parse_datetime(raw_time) if raw_time else timezone.now()  # ValueError for 30 February
    if taken_at is None:
        raise ValueError(f"taken_at {raw_time!r} is not a date and time (ISO 8601)")
    if timezone.is_naive(taken_at):
        taken_at = timezone.make_aware(taken_at)
    try:
        taken_at.astimezone(UTC)  # how it is stored; year 9999 at UTC-12 lies beyond what a datetime holds
    except OverflowError:
        raise ValueError(f"taken_at {raw_time!r} is beyond the year 9999")
    values = {"taken_at": taken_at}
    for name in COUNTS:
        values[name] = _whole_number(name, (row.get(name) or "0").strip() or "0", most=COUNT_MAX)
    raw_spend = (row.get("spend") or "0").strip() or "0"
    try:
        spend = Decimal(raw_spend)
    except InvalidOperation:
        raise ValueError(f"spend {raw_spend!r} is not a number")
    if not spend.is_finite() or spend < 0 or spend >= SPEND_LIMIT or spend != spend.quantize(CENT):
        raise ValueError(f"spend {raw_spend!r} is not an amount from 0 to {SPEND_LIMIT - CENT:,} in cents")
    values["spend"] = spend
    return values


def metrics_import_csv(*, text: str, by=None) -> dict:
    """Rows with job_id, taken_at, impressions, clicks, engagements, conversions, spend.
    A bad row is reported with its line number and never stops the good ones."""
    reader = csv.DictReader(io.StringIO(text))
    try:
        missing = {"job_id"} - set(reader.fieldnames or [])
        if missing:
            raise DomainError("The CSV needs a job_id column.", code="invalid_csv",
                              extra={"columns": list(CSV_COLUMNS)})
        rows = list(itertools.islice(reader, MAX_METRIC_ROWS + 1))
    except csv.Error as error:  # a field beyond csv.field_size_limit
        raise DomainError(f"The file cannot be read as CSV: {error}.", code="invalid_csv")
    if len(rows) > MAX_METRIC_ROWS:
        raise DomainError(f"The CSV has more than {MAX_METRIC_ROWS:,} rows; split it.", code="too_many_rows",
                          extra={"limit": MAX_METRIC_ROWS})
    job_ids = {}
    for line, row in enumerate(rows, start=2):
        try:
            job_ids[line] = _whole_number("job_id", (row.get("job_id") or "").strip(), most=DB_INTEGER_MAX)
        except ValueError:
            pass
    jobs = PublishingJob.objects.in_bulk(set(job_ids.values()))
    imported, errors = 0, []
    for line, row in enumerate(rows, start=2):
        job = jobs.get(job_ids.get(line))
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
