"""Send-time optimisation: each delivery of a send waits for the hour, within the next 24 hours, at which its
contact usually opens email.

The history is the contact's open and click events (crm): every recorded open or click also sets the delivery's
first_opened_at, so the events hold all of it, and opens imported from elsewhere too. An event counts for the
hour of the day it happened in (team's time zone); one on the same weekday as the slot counts
SAME_WEEKDAY_WEIGHT times, so a Tuesday-morning habit wins on a Tuesday and the hour of day decides otherwise.
A contact with fewer than MIN_CONTACT_OPENS events takes their segment's hour (the send's audience segments,
from MIN_GROUP_OPENS events), else the installation's; with no history at all the delivery goes at once.

Each choice is one UPDATE over the send's deliveries (every contact's best slot at once, or one time for a whole
segment), never a loop over contacts. The chosen time goes in next_attempt_at, which the sender's claim already
respects, so the exactly-once machinery (leases, marks, recovery) is the one every send uses.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.db.models import QuerySet
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay
from django.utils import timezone

from crm.choices import EventKind
from crm.models import Contact, EngagementEvent, Segment
from crm.segments import rules_q
from publishing.email.choices import DeliveryStatus
from publishing.email.models import ABTest, EmailCampaign, EmailCampaignEvent, EmailDelivery

SAME_WEEKDAY_WEIGHT = 7
MIN_CONTACT_OPENS = 3
MIN_GROUP_OPENS = 10
WINDOW_HOURS = 24


def _team_zone() -> zoneinfo.ZoneInfo:
    return zoneinfo.ZoneInfo(settings.TIME_ZONE)


def window_slots(start: datetime) -> list[datetime]:
    """The 24 delivery times from `start`: `start` itself, then each following whole hour of the team's wall
    clock, so slot k stands for the hour of day k after start's, the hour an open is counted in.

    Counted on the wall clock, not by adding hours in UTC: on the day the clocks change, UTC hours drift one
    hour from the wall-clock hours they would stand for. The hour the clocks skip (02:00 on a spring-forward
    night in Paris) resolves to the moment they jump to (03:00, the same instant as the next slot); of a
    repeated hour (autumn), the first pass is taken."""
    zone = _team_zone()
    first = start.astimezone(zone).replace(minute=0, second=0, microsecond=0, tzinfo=None)
    slots = [start]
    for k in range(1, WINDOW_HOURS):
        # zoneinfo's fold=0 is the offset before a change: a skipped time moves forward, a repeated one is
        # its first pass.
        slots.append((first + timedelta(hours=k)).replace(tzinfo=zone).astimezone(UTC))
    return slots


def _scored_opens(opens: QuerySet, slots: list[datetime]) -> tuple[str, list]:
    """SQL and parameters selecting each open's contact_id, `slot` (the index of the window's slot at its hour
    of day) and `weight`.

    The zoned hour and weekday are taken once per open, in a MATERIALIZED CTE: SQLite computes them in Python,
    and each expression naming them again computed them again (five calls an open, 12 s of the 22 s of a
    100,000-delivery send). Arithmetic on the hour rather than a CASE per hour, for the same reason. Slot k is
    the wall-clock hour k after the first (window_slots), so the offset holds on the days the clocks change too."""
    zone = _team_zone()
    first = slots[0].astimezone(zone)
    next_day = (first + timedelta(days=1)).isoweekday()
    zoned_sql, zoned_params = (opens.annotate(hour=ExtractHour("occurred_at", tzinfo=zone),
                                              weekday=ExtractIsoWeekDay("occurred_at", tzinfo=zone))
                               .values("contact_id", "hour", "weekday").query.sql_with_params())
    return (f"WITH zoned AS MATERIALIZED ({zoned_sql}) "
            "SELECT contact_id, (hour + %s) %% %s AS slot, "
            "CASE WHEN (hour >= %s AND weekday = %s) OR (hour < %s AND weekday = %s) THEN %s ELSE 1 END AS weight "
            "FROM zoned",
            [*zoned_params, WINDOW_HOURS - first.hour, WINDOW_HOURS, first.hour, first.isoweekday(), first.hour,
             next_day, SAME_WEEKDAY_WEIGHT])


def _opens() -> QuerySet:
    return EngagementEvent.objects.filter(kind__in=(EventKind.OPENED, EventKind.CLICKED)).order_by()


def group_best_time(contacts: QuerySet, slots: list[datetime]) -> datetime | None:
    """The slot at which these contacts together open most; None below MIN_GROUP_OPENS opens."""
    opens = _opens().filter(contact__in=contacts.values("pk"))
    if opens.count() < MIN_GROUP_OPENS:
        return None
    scored_sql, scored_params = _scored_opens(opens, slots)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT slot FROM ({scored_sql}) AS scored "  # noqa: S608
                       "GROUP BY slot ORDER BY SUM(weight) DESC, slot LIMIT 1", scored_params)
        best = cursor.fetchone()
    return slots[int(best[0])] if best else None


def _own_best_times_set(email_campaign: EmailCampaign, waiting: QuerySet, slots: list[datetime],
                        occurrences: list[int] | None) -> int:
    """One UPDATE … FROM: each contact's opens grouped by slot, the best slot per contact picked by a window
    function, for contacts with enough opens. (A correlated subquery per delivery took 10 ms each on SQLite.)"""
    scored_sql, scored_params = _scored_opens(_opens().filter(contact_id__in=waiting.values("contact_id")), slots)
    table = EmailDelivery._meta.db_table
    slot_times = " ".join("WHEN %s THEN %s" for _ in slots)
    slot_params = [value for index, slot in enumerate(slots)
                   for value in (index, connection.ops.adapt_datetimefield_value(slot))]
    only_these = ""
    if occurrences is not None:
        only_these = f" AND {table}.occurrence IN ({', '.join('%s' for _ in occurrences)})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET next_attempt_at = CASE best.slot {slot_times} END FROM ("  # noqa: S608
            "  SELECT contact_id, slot, ROW_NUMBER() OVER (PARTITION BY contact_id ORDER BY score DESC, slot) AS rank,"
            "         SUM(opens) OVER (PARTITION BY contact_id) AS total"
            "  FROM (SELECT contact_id, slot, SUM(weight) AS score, COUNT(*) AS opens"
            f"        FROM ({scored_sql}) AS scored GROUP BY contact_id, slot) AS cells) AS best "
            f"WHERE best.rank = 1 AND best.total >= %s AND {table}.contact_id = best.contact_id "
            # `|| ''` keeps the status test off the claim index: with it, SQLite looked each contact's delivery up
            # by (send, status, no time yet), which is every waiting delivery of the send, so the UPDATE grew with
            # the square of the audience; by (send, contact) it is one row each.
            f"AND {table}.campaign_id = %s AND {table}.status || '' = %s AND {table}.next_attempt_at IS NULL"
            f"{only_these}",
            [*slot_params, *scored_params, MIN_CONTACT_OPENS, email_campaign.campaign_id, DeliveryStatus.QUEUED,
             *(occurrences or ())])
        return cursor.rowcount


def _spread(email_campaign: EmailCampaign, *, segment_ids, now: datetime | None,
            occurrences: list[int] | None = None) -> dict:
    slots = window_slots(now or timezone.now())
    waiting = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.QUEUED,
                                           next_attempt_at__isnull=True)
    if occurrences is not None:
        waiting = waiting.filter(occurrence__in=occurrences)
    counts = {"contact": _own_best_times_set(email_campaign, waiting, slots, occurrences), "segment": 0,
              "installation": 0, "at_once": 0}
    if not waiting.exists():
        # The installation's hour reads every open there is: not worth it when every contact had their own.
        return counts
    for segment in Segment.objects.filter(pk__in=list(segment_ids)).order_by("pk"):
        members = Contact.objects.filter(rules_q(segment.rules))
        at = group_best_time(members, slots)
        if at is not None:
            counts["segment"] += waiting.filter(contact__in=members.values("pk")).update(next_attempt_at=at)
    at = group_best_time(Contact.objects.all(), slots)
    if at is not None:
        counts["installation"] = waiting.update(next_attempt_at=at)
    counts["at_once"] = waiting.update(next_attempt_at=slots[0])
    return counts


def deliveries_spread_to_best_hours(*, email_campaign: EmailCampaign, now: datetime | None = None) -> dict:
    """Give each queued delivery of the send its best time in the next 24 hours. Returns how many took their
    own hour ("contact"), their segment's ("segment"), the installation's ("installation"), and how many go at
    once for want of any history ("at_once"). Recorded in the send's history."""
    counts = _spread(email_campaign, segment_ids=(email_campaign.campaign.audience or {}).get("segment_ids", ()),
                     now=now)
    EmailCampaignEvent.objects.create(
        email_campaign=email_campaign, from_status=email_campaign.status, to_status=email_campaign.status,
        note=(f"Spread over the next {WINDOW_HOURS} hours: {counts['contact']} at their own best hour, "
              f"{counts['segment']} at their segment's, {counts['installation']} at everyone's, "
              f"{counts['at_once']} at once (no open history yet)."))
    return counts


def occurrences_at_best_hours(*, email_campaign: EmailCampaign, occurrences: list[int], segment_ids=(),
                              now: datetime | None = None) -> dict:
    """The same choice for the deliveries of these occurrences only, just queued by an open send (a journey's
    email step: one occurrence per enrolment), in the transaction that queued them, so the sender never sees
    them before their time is set. Not written in the send's history: a journey queues a batch a minute."""
    if not occurrences:
        return {"contact": 0, "segment": 0, "installation": 0, "at_once": 0}
    return _spread(email_campaign, segment_ids=segment_ids, now=now, occurrences=occurrences)


def best_hour_refusal(email_campaign: EmailCampaign) -> str:
    """Why this send cannot deliver at best hours, or "". An A/B test's phases are timed from the start (the
    test share, its wait, then the winner): spread over a day the test would judge variants on opens that
    have not had time to happen, so the two are refused together rather than one quietly ignored."""
    if email_campaign.deliver_at_best_hour and ABTest.objects.filter(email_campaign=email_campaign).exists():
        return "Delivering at each contact's best hour cannot be combined with an A/B test: choose one."
    return ""
