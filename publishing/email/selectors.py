"""Every non-trivial read of email campaigns, tuned once for the API, the admin and the back office."""

import zoneinfo
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db.models import Count, F, Max, OuterRef, Q, QuerySet, Subquery
from django.db.models.fields.json import KT
from django.db.models.functions import Coalesce, Greatest, TruncHour
from django.urls import reverse
from django.utils import timezone

from aicmo_site.stuck import StuckWork
from publishing.email.choices import DELIVERY_UNSENT, DeliveryStatus, InboundEventKind, SendStatus
from publishing.email.filters import DeliveryFilterSet
from publishing.email.models import ABTest, EmailCampaign, EmailDelivery, EmailTemplate, InboundEvent, TrackingHit

RATE_WINDOW_SECONDS = 60


def email_template_list() -> QuerySet[EmailTemplate]:
    return EmailTemplate.objects.select_related("created_by")


def email_templates_with_send_counts(*, search: str = "", ordering: str = "name") -> QuerySet[EmailTemplate]:
    """The back office's list: without the bodies (long, and not shown), each template with the number of
    sends using it, counted in the same query."""
    queryset = email_template_list().defer("html_body", "text_body").annotate(send_count=Count("campaigns"))
    if search:
        queryset = queryset.filter(Q(name__icontains=search) | Q(subject__icontains=search))
    return queryset.order_by(ordering, "id")


def email_campaign_list() -> QuerySet[EmailCampaign]:
    return EmailCampaign.objects.select_related("campaign", "template", "requested_by")


def email_sends_running(*, limit: int = 10) -> list[EmailCampaign]:
    """Sends under way (sending or paused), each with `percent` (see email_campaigns_attach_percent)."""
    sends = list(email_campaign_list().filter(status__in=(SendStatus.SENDING, SendStatus.PAUSED))
                 .order_by("started_at", "pk")[:limit])
    email_campaigns_attach_percent(sends)
    return sends


def sends_with_delivery_problems(*, days: int = 30, limit: int = 10) -> list[dict]:
    """Recent sends with failed deliveries or deliveries whose outcome is unknown (to check before
    sending again), the newest first: one grouped query on the claim index."""
    since = timezone.now() - timedelta(days=days)
    problems = (DeliveryStatus.FAILED, DeliveryStatus.OUTCOME_UNKNOWN)
    return list(
        EmailDelivery.objects.filter(status__in=problems, campaign__email__started_at__gte=since)
        .order_by().values("campaign_id", "campaign__name")
        .annotate(failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
                  unknown=Count("id", filter=Q(status=DeliveryStatus.OUTCOME_UNKNOWN)))
        .order_by("-campaign_id")[:limit]
    )


def delivery_list(*, filters: dict | None = None) -> QuerySet[EmailDelivery]:
    queryset = EmailDelivery.objects.select_related("contact", "variant").order_by("id")
    filterset = DeliveryFilterSet(data=filters or {}, queryset=queryset)
    return filterset.qs if filterset.is_valid() else queryset.none()


def ab_test_list() -> QuerySet[ABTest]:
    return ABTest.objects.select_related("email_campaign", "winner").prefetch_related("variants")


@dataclass
class Progress:
    total: int
    queued: int
    held: int
    sending: int
    sent: int
    failed: int
    outcome_unknown: int
    canceled: int
    remaining: int
    opened: int
    clicked: int
    percent: int
    rate_per_second: float
    eta_seconds: int | None

    def as_dict(self) -> dict:
        return asdict(self)


def email_campaign_progress(email_campaign: EmailCampaign) -> Progress:
    """Counts in one aggregate query; the rate is what was sent in the last minute."""
    since = timezone.now() - timedelta(seconds=RATE_WINDOW_SECONDS)
    counts = EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id).aggregate(
        total=Count("id"),
        queued=Count("id", filter=Q(status=DeliveryStatus.QUEUED, held=False)),
        held=Count("id", filter=Q(status=DeliveryStatus.QUEUED, held=True)),
        sending=Count("id", filter=Q(status=DeliveryStatus.SENDING)),
        sent=Count("id", filter=Q(status=DeliveryStatus.SENT)),
        failed=Count("id", filter=Q(status=DeliveryStatus.FAILED)),
        outcome_unknown=Count("id", filter=Q(status=DeliveryStatus.OUTCOME_UNKNOWN)),
        canceled=Count("id", filter=Q(status__in=[DeliveryStatus.CANCELED, DeliveryStatus.SKIPPED])),
        opened=Count("id", filter=Q(first_opened_at__isnull=False)),
        clicked=Count("id", filter=Q(first_clicked_at__isnull=False)),
        recent=Count("id", filter=Q(status=DeliveryStatus.SENT, sent_at__gte=since)),
    )
    remaining = counts["queued"] + counts["held"] + counts["sending"]
    rate = counts.pop("recent") / RATE_WINDOW_SECONDS
    done = counts["total"] - remaining
    percent = round(100 * done / counts["total"]) if counts["total"] else 0
    return Progress(**counts, remaining=remaining, percent=percent, rate_per_second=round(rate, 2),
                    eta_seconds=round(remaining / rate) if rate and remaining else None)


def email_campaigns_attach_percent(sends) -> None:
    """Each send of the page gets `percent`: the share of its frozen audience no longer waiting.
    Only sends under way need a count, all of them in one grouped query on the claim index
    (campaign, status, ...); a finished send is 100% and a draft has no progress."""
    under_way = [send.campaign_id for send in sends if send.status in (SendStatus.SENDING, SendStatus.PAUSED)]
    waiting = dict(EmailDelivery.objects.filter(campaign_id__in=under_way, status__in=DELIVERY_UNSENT)
                   .order_by().values_list("campaign_id").annotate(n=Count("id"))) if under_way else {}
    for send in sends:
        if send.status == SendStatus.COMPLETED:
            send.percent = 100
        elif send.campaign_id in under_way and send.audience_size:
            send.percent = round(100 * (send.audience_size - waiting.get(send.campaign_id, 0)) / send.audience_size)
        else:
            send.percent = None


def sends_needing_a_provider() -> list[str]:
    """The sends under way, which need a real email sending provider (gateways.readiness.register_use)."""
    names = EmailCampaign.objects.filter(status=SendStatus.SENDING).order_by("pk").values_list("campaign__name",
                                                                                               flat=True)
    return [f"send “{name}” is sending" for name in names[:5]]


def email_campaigns_stuck(*, before) -> QuerySet[EmailCampaign]:
    """Sends under way with nothing sent since `before` (and not started or resumed since), each with
    `progressed_at`. A send pauses itself when its provider goes away, so one still sending without
    progress waits on something nobody sees (no worker, every provider refusing)."""
    last_sent = (EmailDelivery.objects.filter(campaign_id=OuterRef("campaign_id")).order_by()
                 .values("campaign_id").annotate(last=Max("sent_at")).values("last"))
    return (EmailCampaign.objects.filter(status=SendStatus.SENDING).select_related("campaign")
            .annotate(progressed_at=Greatest(Coalesce(Subquery(last_sent), F("updated_at")), F("updated_at")))
            .filter(progressed_at__lt=before))


@dataclass
class Feedback:
    hard_bounces: int = 0
    soft_bounces: int = 0
    complaints: int = 0
    replies: int = 0
    auto_replies: int = 0


def stuck_work(*, before) -> list[StuckWork]:
    """For the home page (aicmo_site.stuck, which finds this module through aicmo_site.registry)."""
    stuck = [StuckWork("Email send", send.campaign.name, reverse("email-send-detail", args=[send.campaign_id]),
                       send.progressed_at) for send in email_campaigns_stuck(before=before)]
    oldest_hit = _oldest_uncounted_hit()
    if oldest_hit is not None and oldest_hit < before:
        stuck.append(StuckWork("Opens and clicks", "not counted yet: is the schedule “email: fold opens and "
                               "clicks” running (manage.py setup_schedules) with a worker?",
                               reverse("run-list"), oldest_hit))
    return stuck


def _oldest_uncounted_hit():
    """When the oldest open or click still waiting for the fold happened. Hits are appended in time
    order and the fold takes the oldest first, so the first by id is the oldest: one row read, however
    many wait (a filter on the time would scan them all when none is old)."""
    return TrackingHit.objects.order_by("id").values_list("occurred_at", flat=True).first()


def email_sends_started() -> bool:
    """The getting-started checklist's last step: has an email gone out?"""
    return EmailCampaign.objects.exclude(status=SendStatus.DRAFT).exists()


def email_campaign_feedback(email_campaign: EmailCampaign) -> Feedback:
    """What came back from a send's deliveries, in one grouped query. Bounces recorded before their
    class was kept with the event count as hard, the class they were applied with by default."""
    rows = (InboundEvent.objects.filter(delivery__campaign_id=email_campaign.campaign_id)
            .values("kind", bounce_class=KT("detail__class")).annotate(n=Count("id")).order_by())
    feedback = Feedback()
    fields = {InboundEventKind.COMPLAINT: "complaints", InboundEventKind.REPLY: "replies",
              InboundEventKind.AUTO_REPLY: "auto_replies"}
    for row in rows:
        if row["kind"] == InboundEventKind.BOUNCE:
            field = "soft_bounces" if row["bounce_class"] == "soft" else "hard_bounces"
        else:
            field = fields.get(row["kind"])
        if field:
            setattr(feedback, field, getattr(feedback, field) + row["n"])
    return feedback


def delivery_inbound_events(delivery: EmailDelivery) -> QuerySet[InboundEvent]:
    return InboundEvent.objects.filter(delivery=delivery).select_related("contact").order_by("-received_at", "-id")


def email_campaign_hour_spread(email_campaign: EmailCampaign) -> list[dict]:
    """For a send delivered at best hours: per hour (team's time zone), how many deliveries it holds and how
    many of them are sent, in one grouped query."""
    if not email_campaign.deliver_at_best_hour:
        return []
    zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return list(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id, next_attempt_at__isnull=False)
                .annotate(hour=TruncHour("next_attempt_at", tzinfo=zone)).order_by().values("hour")
                .annotate(deliveries=Count("pk"), sent=Count("pk", filter=Q(status=DeliveryStatus.SENT)))
                .order_by("hour"))
