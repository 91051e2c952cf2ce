"""What posts did, from the channels' metric snapshots: content × channel × day (analytics' table)
and asset × channel × day (media's AssetPerformance, written through media's service).

Snapshots are running totals, so a day's figure is its last snapshot minus the previous day's last
snapshot (LAG over the job's days). Spend comes only from here: publishing's Campaign.spend is never
written by publishing (it stays 0) and bid settings are intentions, not money spent, so counting
either beside the snapshots would count the same money twice.

Both tables are small (jobs × days), so they are recomputed whole on every fold: a fold and a
rebuild cannot disagree, and running either twice changes nothing.
"""

from django.db import connection
from django.db.models.functions import TruncDate

from analytics.models import ContentChannelDay
from analytics.services.zones import team_zone
from media.services import asset_performance_upsert
from publishing.models import Channel, ChannelVersion, MetricSnapshot, PublishingJob

POST_MEASURES = ("impressions", "clicks", "engagements", "conversions", "spend")
ASSET_MEASURES = ("impressions", "clicks", "conversions")


def _job_day_growth() -> tuple[str, list]:
    """SQL of one row per job and day: the job's campaign, content, channel slug, version and the
    growth of each measure that day."""
    snapshots = MetricSnapshot.objects.annotate(
        snapshot_day=TruncDate("taken_at", tzinfo=team_zone())
    ).values("id", "job_id", "taken_at", "snapshot_day", *POST_MEASURES).order_by()
    snapshot_sql, params = snapshots.query.sql_with_params()
    q = connection.ops.quote_name
    jobs, channels = q(PublishingJob._meta.db_table), q(Channel._meta.db_table)
    latest = ", ".join(f"s.{m}" for m in POST_MEASURES)
    growth = ", ".join(f"d.{m} - COALESCE(LAG(d.{m}) OVER job_days, 0) AS {m}" for m in POST_MEASURES)
    sql = (
        f"SELECT j.campaign_id, j.content_id, ch.slug AS channel, j.version_id, d.snapshot_day AS day, {growth} "
        f"FROM (SELECT s.job_id, s.snapshot_day, {latest}, ROW_NUMBER() OVER ("
        f"    PARTITION BY s.job_id, s.snapshot_day ORDER BY s.taken_at DESC, s.id DESC) AS day_rank"
        f"  FROM ({snapshot_sql}) s"
        f") d JOIN {jobs} j ON j.id = d.job_id JOIN {channels} ch ON ch.id = j.channel_id "
        f"WHERE d.day_rank = 1 WINDOW job_days AS (PARTITION BY d.job_id ORDER BY d.snapshot_day)"
    )
    return sql, list(params)


def content_days_recompute() -> int:
    """Rewrites the content × channel × day table; returns its rows."""
    growth_sql, params = _job_day_growth()
    table = connection.ops.quote_name(ContentChannelDay._meta.db_table)
    measures = ", ".join(POST_MEASURES)
    ContentChannelDay.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (campaign_id, content_id, channel, day, {measures}) "
            f"SELECT g.campaign_id, g.content_id, g.channel, g.day, {measures} FROM ({growth_sql}) g",
            params,
        )
        return cursor.rowcount


def asset_days_recompute() -> int:
    """Sets asset × channel × campaign × day figures in media from the same daily growth.

    Every asset posted with a job's channel version shares that post's figures (a post's impressions
    are each of its images' impressions). A snapshot that went down (a channel correcting itself)
    gives a negative day, which media does not accept: it reads 0. Analytics is the only source of
    these figures, so rows of an asset no longer attached to a posted version are deleted.
    """
    growth_sql, params = _job_day_growth()
    through = connection.ops.quote_name(ChannelVersion.media.through._meta.db_table)
    sums = ", ".join(
        f"CASE WHEN SUM(g.{m}) < 0 THEN 0 ELSE SUM(g.{m}) END AS {m}" for m in ASSET_MEASURES
    )
    sql = (
        f"SELECT m.asset_id, g.channel, g.campaign_id, g.day, {sums} FROM ({growth_sql}) g "
        f"JOIN {through} m ON m.channelversion_id = g.version_id "
        f"GROUP BY m.asset_id, g.channel, g.campaign_id, g.day"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [
            {"asset_id": asset_id, "channel": channel[:40], "campaign_id": campaign_id, "day": day,
             **{m: int(value) for m, value in zip(ASSET_MEASURES, figures, strict=True)}}
            for asset_id, channel, campaign_id, day, *figures in cursor.fetchall()
        ]
    asset_performance_upsert(rows=rows, replace=True)
    return len(rows)
