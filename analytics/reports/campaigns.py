"""Campaign reports: one campaign overall and per channel, and campaigns side by side."""

from django.db import connection
from django.db.models import Exists, OuterRef, Value

from analytics.reports.ab_tests import ab_test_reports
from analytics.reports.cache import fold_cached, fold_state_of, fold_state_subqueries
from analytics.reports.measures import derived, empty_totals, ratio, regrouped, summed_periods, whole_period
from crm.choices import EventKind
from crm.models import EngagementEvent
from publishing.email.choices import DeliveryStatus
from publishing.email.models import ABTest, EmailDelivery
from publishing.models import Campaign

EMAIL_CHANNEL = "email"


def _audience_counts(campaign_ids, start=None, end=None) -> dict[tuple, dict]:
    """Reach and unique opens, by campaign and channel and overall.

    Reach counts each person once: everyone a campaign's email was sent to, and everyone with an
    engagement event of the campaign on any channel. Unique opens count the people who opened or
    clicked an email, as the delivery's first open does (publishing.email.services.feedback).
    """
    if not campaign_ids:
        return {}
    # Unordered: the models' default order made PostgreSQL sort the campaign's events, reading each one's row
    # (20,200 pages for one campaign at 10M events: 1.1 s), where the reach index alone answers (bench/NOTES.md).
    events = EngagementEvent.objects.filter(campaign_id__in=campaign_ids).order_by()
    sent = EmailDelivery.objects.filter(campaign_id__in=campaign_ids, status=DeliveryStatus.SENT).order_by()
    if start:
        events = events.filter(occurred_at__date__gte=start)
        sent = sent.filter(sent_at__date__gte=start)
    if end:
        events = events.filter(occurred_at__date__lte=end)
        sent = sent.filter(sent_at__date__lte=end)
    touched = events.values_list("campaign_id", "channel", "contact_id", "kind")
    touched_sql, touched_params = touched.query.sql_with_params()
    sent_sql, sent_params = sent.annotate(
        reach_channel=Value(EMAIL_CHANNEL), reach_kind=Value(EventKind.SENT)
    ).values_list("campaign_id", "reach_channel", "contact_id", "reach_kind").query.sql_with_params()
    people = f"SELECT * FROM ({touched_sql}) t UNION ALL SELECT * FROM ({sent_sql}) d"
    # Each person once per campaign and channel first, with whether they opened (an email click proves an open:
    # images are often blocked, as the send's page counts it); then both groupings count those rows. Counting
    # distinct people over every event sorted all of the campaign's events twice: 90 ms against 44 ms at 10M
    # events (EXPLAIN ANALYZE, bench/NOTES.md).
    sql = (f"WITH p AS (SELECT e.campaign_id, e.channel, e.contact_id, "
           f"MAX(CASE WHEN e.kind = %s OR (e.kind = %s AND e.channel = %s) THEN 1 ELSE 0 END) AS opened "
           f"FROM ({people}) e GROUP BY e.campaign_id, e.channel, e.contact_id) "
           f"SELECT p.campaign_id, p.channel, 0, COUNT(*), SUM(p.opened) FROM p GROUP BY p.campaign_id, p.channel "
           f"UNION ALL SELECT p.campaign_id, NULL, 1, COUNT(DISTINCT p.contact_id), "
           f"COUNT(DISTINCT CASE WHEN p.opened = 1 THEN p.contact_id END) FROM p GROUP BY p.campaign_id")
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [EventKind.OPENED, EventKind.CLICKED, EMAIL_CHANNEL, *touched_params, *sent_params])
        for campaign_id, channel, overall, reach, unique_opens in cursor.fetchall():
            found[(campaign_id, None if overall else channel)] = {"reach": reach, "unique_opens": unique_opens}
    return found


def _with_rates(totals: dict) -> dict:
    return {**totals, **derived(totals)}


def campaigns_live(campaign_ids) -> dict:
    """The campaigns by id, each with the fold checkpoint (`fold_state_of(vars(campaign))`) and whether it has
    an A/B test to read, in one query: a cached page reads nothing else but the cache (under load every round
    trip waits its turn)."""
    tests = ABTest.objects.filter(email_campaign__campaign_id=OuterRef("pk"))
    return Campaign.objects.annotate(**fold_state_subqueries(), has_ab_test=Exists(tests)).in_bulk(campaign_ids)


def campaign_reports(campaign_ids, *, start=None, end=None, campaigns: dict | None = None) -> list[dict]:
    """`campaigns`: what campaigns_live(campaign_ids) gave, when the caller has read it already."""
    campaigns = campaigns_live(campaign_ids) if campaigns is None else campaigns
    ids = sorted(campaigns)
    checkpoint = fold_state_of(vars(campaigns[ids[0]])) if ids else None
    # The sums and the audience under one key.
    per_channel, audience = fold_cached(
        "campaign_report", lambda: (summed_periods(periods={"period": whole_period(start, end)}, campaign_ids=ids,
                                                   group_by=("campaign_id", "channel"))["period"],
                                    _audience_counts(ids, start, end)),
        checkpoint=checkpoint, ids=tuple(ids), start=start, end=end)
    overall = regrouped(per_channel, (0,))
    tested = [cid for cid, campaign in campaigns.items() if campaign.has_ab_test]
    ab_tests = ab_test_reports(tested) if tested else {}
    reports = []
    for campaign_id in campaign_ids:
        campaign = campaigns.get(campaign_id)
        if campaign is None:
            continue
        channels = []
        for (cid, channel), totals in sorted(per_channel.items(), key=lambda item: item[0][1] or ""):
            if cid != campaign_id:
                continue
            seen = audience.get((campaign_id, channel), {})
            totals = {**totals, "reach": seen.get("reach", 0), "unique_opens": seen.get("unique_opens", 0)}
            channels.append({"channel": channel or "(none)", **_with_rates(totals)})
        seen = audience.get((campaign_id, None), {})
        total = {**overall.get((campaign_id,), empty_totals()), "reach": seen.get("reach", 0),
                 "unique_opens": seen.get("unique_opens", 0)}
        reports.append({
            "campaign": {"id": campaign.pk, "name": campaign.name, "status": campaign.status,
                         "budget": campaign.budget},
            "period": {"start": start, "end": end},
            "totals": _with_rates(total),
            "budget_used": ratio(total["spend"], campaign.budget),
            "channels": channels,
            "ab_test": ab_tests.get(campaign_id),
        })
    return reports


def campaign_report(campaign_id: int, *, start=None, end=None, campaigns: dict | None = None) -> dict | None:
    reports = campaign_reports([campaign_id], start=start, end=end, campaigns=campaigns)
    return reports[0] if reports else None
