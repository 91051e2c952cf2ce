"""Send-time optimisation: each delivery of a send waits for the hour, within the next 24 hours, at which its
contact usually opens email.

The history is the contact's open and click events (crm): every recorded open or click also sets the delivery's
first_opened_at, so the events hold all of it, and opens imported from elsewhere too. An event counts for the
hour of the day it happened in (team's time zone); one on the same weekday as the slot counts
SAME_WEEKDAY_WEIGHT times, so a Tuesday-morning habit wins on a Tuesday and the hour of day decides otherwise.
A contact with fewer than MIN_CONTACT_OPENS events takes their segment's hour (the send's audience segments,
from MIN_GROUP_OPENS events), else the installation's; with no history at all the delivery goes at once.

Each choice is one UPDATE over the send's deliveries (a correlated subquery per contact, or one time for a whole
segment), never a loop over contacts. The chosen time goes in next_attempt_at, which the sender's claim already
respects, so the exactly-once machinery (leases, marks, recovery) is the one every send uses.
"""

import zoneinfo
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db.models import Case, Count, DateTimeField, IntegerField, OuterRef, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce, ExtractHour, ExtractIsoWeekDay
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


def window_slots(start: datetime) -> list[datetime]:
    """The 24 delivery times from `start`: `start` itself, then each following whole hour."""
    first_hour = start.replace(minute=0, second=0, microsecond=0)
    return [start] + [first_hour + timedelta(hours=k) for k in range(1, WINDOW_HOURS)]


def _scored_opens(opens: QuerySet, slots: list[datetime]) -> QuerySet:
    """Each open with `at`, the slot of its hour of day, and `weight`. Across a clock change an hour of day may
    occur twice in the window (the first counts) or not at all (its opens are left out)."""
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    by_hour: dict[int, tuple[int, datetime]] = {}
    for slot in slots:
        local = slot.astimezone(zone)
        by_hour.setdefault(local.hour, (local.isoweekday(), slot.astimezone(UTC)))
    at = Case(*[When(hour=hour, then=Value(slot)) for hour, (_, slot) in by_hour.items()],
              output_field=DateTimeField())
    weight = Case(*[When(hour=hour, weekday=weekday, then=Value(SAME_WEEKDAY_WEIGHT))
                    for hour, (weekday, _) in by_hour.items()], default=Value(1), output_field=IntegerField())
    return (opens.annotate(hour=ExtractHour("occurred_at", tzinfo=zone),
                           weekday=ExtractIsoWeekDay("occurred_at", tzinfo=zone))
            .annotate(at=at, weight=weight).filter(at__isnull=False))


def _opens() -> QuerySet:
    return EngagementEvent.objects.filter(kind__in=(EventKind.OPENED, EventKind.CLICKED)).order_by()


def _best_at(opens: QuerySet, slots: list[datetime]) -> QuerySet:
    return (_scored_opens(opens, slots).values("at").annotate(score=Sum("weight")).order_by("-score", "at")
            .values("at"))


def group_best_time(contacts: QuerySet, slots: list[datetime]) -> datetime | None:
    """The slot at which these contacts together open most; None below MIN_GROUP_OPENS opens."""
    opens = _opens().filter(contact__in=contacts.values("pk"))
    if opens.count() < MIN_GROUP_OPENS:
        return None
    best = _best_at(opens, slots).first()
    return best["at"] if best else None


def contact_best_time(contact: Contact, slots: list[datetime]) -> datetime | None:
    """The contact's own best slot; None below MIN_CONTACT_OPENS opens."""
    opens = _opens().filter(contact=contact)
    if opens.count() < MIN_CONTACT_OPENS:
        return None
    best = _best_at(opens, slots).first()
    return best["at"] if best else None


def deliveries_spread_to_best_hours(*, email_campaign: EmailCampaign, now: datetime | None = None) -> dict:
    """Give each queued delivery of the send its best time in the next 24 hours. Returns how many took their
    own hour ("contact"), their segment's ("segment"), the installation's ("installation"), and how many go at
    once for want of any history ("at_once"). Recorded in the send's history."""
    slots = window_slots(now or timezone.now())
    waiting = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, status=DeliveryStatus.QUEUED,
                                           next_attempt_at__isnull=True)
    own_opens = (_opens().filter(contact_id=OuterRef("contact_id")).values("contact_id").annotate(n=Count("pk"))
                 .values("n"))
    own_best = _best_at(_opens().filter(contact_id=OuterRef("contact_id")), slots)[:1]
    experienced = waiting.annotate(own_opens=Coalesce(Subquery(own_opens, output_field=IntegerField()), 0)).filter(
        own_opens__gte=MIN_CONTACT_OPENS)
    counts = {"contact": EmailDelivery.objects.filter(pk__in=experienced.values("pk")).update(
        next_attempt_at=Subquery(own_best, output_field=DateTimeField()))}
    counts["segment"] = 0
    segment_ids = (email_campaign.campaign.audience or {}).get("segment_ids", ())
    for segment in Segment.objects.filter(pk__in=list(segment_ids)).order_by("pk"):
        members = Contact.objects.filter(rules_q(segment.rules))
        at = group_best_time(members, slots)
        if at is not None:
            counts["segment"] += waiting.filter(contact__in=members.values("pk")).update(next_attempt_at=at)
    at = group_best_time(Contact.objects.all(), slots)
    counts["installation"] = waiting.update(next_attempt_at=at) if at is not None else 0
    counts["at_once"] = waiting.update(next_attempt_at=slots[0])
    EmailCampaignEvent.objects.create(
        email_campaign=email_campaign, from_status=email_campaign.status, to_status=email_campaign.status,
        note=(f"Spread over the next {WINDOW_HOURS} hours: {counts['contact']} at their own best hour, "
              f"{counts['segment']} at their segment's, {counts['installation']} at everyone's, "
              f"{counts['at_once']} at once (no open history yet)."))
    return counts


def best_hour_refusal(email_campaign: EmailCampaign) -> str:
    """Why this send cannot deliver at best hours, or "". An A/B test's phases are timed from the start (the
    test share, its wait, then the winner): spread over a day the test would judge variants on opens that
    have not had time to happen, so the two are refused together rather than one quietly ignored."""
    if email_campaign.deliver_at_best_hour and ABTest.objects.filter(email_campaign=email_campaign).exists():
        return "Delivering at each contact's best hour cannot be combined with an A/B test: choose one."
    return ""
