"""Opens and clicks folded from their appended hits: each hit exactly once (two folders at the same time,
a worker killed mid-fold), and the schedule's real worker folding what the endpoints recorded. That the
folded figures are those of opens and clicks applied at once: analytics/tests/test_tracking_figures.py."""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from django_q.models import Schedule
from django_q.tasks import async_task

from aicmo_site.stuck import stuck_work_everywhere
from aicmo_site.testing.worker import wait_for
from crm.choices import EventKind, LifecycleStatus
from crm.models import Contact, EngagementEvent
from crm.tests.factories import ContactFactory
from publishing.email.choices import TrackingHitKind
from publishing.email.models import EmailDelivery, EmailLink, TrackingHit
from publishing.email.services.tracking import fold_tracking_hits, hits_apply, hits_take
from publishing.email.tokens import make_token
from publishing.tests.email.factories import EmailDeliveryFactory
from publishing.tests.factories import CampaignFactory

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql",
                                     reason="SKIP LOCKED: SQLite's folders take turns on its one write lock")


def audience(size: int):
    campaign = CampaignFactory()
    deliveries = [EmailDeliveryFactory(campaign=campaign, contact=ContactFactory()) for _ in range(size)]
    link = EmailLink.objects.create(campaign=campaign, url="https://example.org/offer", url_hash="offer")
    return campaign, deliveries, link


def hits_for(deliveries, link, *, each: int) -> int:
    """`each` opens and `each` clicks per delivery, appended as the endpoints append them."""
    now = timezone.now()
    TrackingHit.objects.bulk_create(
        [TrackingHit(kind=TrackingHitKind.OPEN, delivery_id=d.pk, occurred_at=now) for d in deliveries] * each
        + [TrackingHit(kind=TrackingHitKind.CLICK, delivery_id=d.pk, link_id=link.pk, occurred_at=now)
           for d in deliveries] * each)
    return 2 * each * len(deliveries)


def assert_each_hit_once(campaign, *, opens: int, clicks: int) -> None:
    counts = EmailDelivery.objects.filter(campaign=campaign).aggregate(opens=Sum("open_count"),
                                                                        clicks=Sum("click_count"))
    events = EngagementEvent.objects.filter(campaign_id=campaign.pk)
    assert (counts["opens"], counts["clicks"]) == (opens, clicks)
    assert (events.filter(kind=EventKind.OPENED).count(), events.filter(kind=EventKind.CLICKED).count()) == (
        opens, clicks)
    for delivery in EmailDelivery.objects.filter(campaign=campaign):
        mine = events.filter(source_id=str(delivery.pk))
        assert (delivery.open_count, delivery.click_count) == (mine.filter(kind=EventKind.OPENED).count(),
                                                               mine.filter(kind=EventKind.CLICKED).count())


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_a_second_folder_skips_the_batch_another_holds_and_each_hit_is_folded_once():
    campaign, deliveries, link = audience(10)
    total = hits_for(deliveries, link, each=5)
    held, release = threading.Event(), threading.Event()
    first_took = []

    def first_folder():
        try:
            with transaction.atomic():
                hits = hits_take(30)
                first_took.append(len(hits))
                held.set()
                release.wait(timeout=120)
                hits_apply(hits)
        finally:
            connection.close()

    thread = threading.Thread(target=first_folder)
    thread.start()
    assert held.wait(timeout=120)
    # The other folder does not wait for the held batch: it takes everything else.
    second = fold_tracking_hits(batch=7)
    release.set()
    thread.join(timeout=120)
    assert first_took == [30] and second == total - 30
    assert not TrackingHit.objects.exists()
    assert_each_hit_once(campaign, opens=total // 2, clicks=total // 2)


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_two_folders_racing_fold_each_hit_exactly_once():
    campaign, deliveries, link = audience(20)
    total = hits_for(deliveries, link, each=15)
    folded = []
    start = threading.Barrier(2)

    def folder():
        try:
            start.wait(timeout=60)
            folded.append(fold_tracking_hits(batch=25))
        finally:
            connection.close()

    threads = [threading.Thread(target=folder) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert sum(folded) == total and not TrackingHit.objects.exists()
    assert_each_hit_once(campaign, opens=total // 2, clicks=total // 2)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_fold_loses_and_repeats_no_hit(qcluster):
    campaign, deliveries, link = audience(40)
    total = hits_for(deliveries, link, each=25)
    cluster = qcluster(EMAIL_TRACKING_FOLD_BATCH="20")
    async_task("publishing.email.tasks.email_fold_tracking_hits")
    # Killed once the fold is under way: between two batches or in the middle of one, whichever it is.
    wait_for(lambda: TrackingHit.objects.count() < total, timeout=120, message=f"a first batch\n{cluster.output()}")
    cluster.kill()
    waiting = TrackingHit.objects.count()
    folded = EngagementEvent.objects.filter(campaign_id=campaign.pk).count()
    assert folded + waiting == total
    assert_each_hit_once(campaign, opens=EngagementEvent.objects.filter(kind=EventKind.OPENED).count(),
                         clicks=EngagementEvent.objects.filter(kind=EventKind.CLICKED).count())

    cluster = qcluster(EMAIL_TRACKING_FOLD_BATCH="20")
    async_task("publishing.email.tasks.email_fold_tracking_hits")
    wait_for(lambda: not TrackingHit.objects.exists(), timeout=180, message=f"the rest\n{cluster.output()}")
    cluster.stop()
    assert_each_hit_once(campaign, opens=total // 2, clicks=total // 2)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_schedule_folds_what_the_endpoints_recorded(qcluster):
    campaign, deliveries, link = audience(2)
    call_command("setup_schedules", verbosity=0)
    assert Schedule.objects.filter(func="publishing.email.tasks.email_fold_tracking_hits", minutes=1).exists()
    client = Client()
    assert client.get(f"/t/o/{make_token('open', deliveries[0].pk)}").status_code == 200
    assert client.get(f"/t/c/{make_token('click', deliveries[1].pk, link.pk)}")["Location"] == link.url
    qcluster(Q_GUARD_CYCLE="30")  # its scheduler looks at once, not after half a minute (test settings)
    wait_for(lambda: not TrackingHit.objects.exists(), timeout=150, message="the scheduled fold")
    assert_each_hit_once(campaign, opens=1, clicks=1)
    assert set(Contact.objects.filter(pk__in=[d.contact_id for d in deliveries])
               .values_list("lifecycle_status", flat=True)) == {LifecycleStatus.ENGAGED}


@pytest.mark.django_db
def test_hits_nobody_folds_show_as_stuck_work_until_the_fold_runs(settings):
    settings.STUCK_AFTER_MINUTES = 30
    campaign, deliveries, link = audience(2)
    hits_for(deliveries, link, each=1)
    assert [item for item in stuck_work_everywhere() if item.kind == "Opens and clicks"] == []

    TrackingHit.objects.filter(pk=TrackingHit.objects.order_by("id").first().pk).update(
        occurred_at=timezone.now() - timedelta(hours=2))
    [stuck] = [item for item in stuck_work_everywhere() if item.kind == "Opens and clicks"]
    assert "setup_schedules" in stuck.name and stuck.url == "/runs/"

    fold_tracking_hits()
    assert [item for item in stuck_work_everywhere() if item.kind == "Opens and clicks"] == []


@pytest.mark.django_db
def test_the_fold_moves_each_contact_to_its_latest_open_or_click():
    campaign, deliveries, link = audience(2)
    opened, clicked = deliveries
    earlier = timezone.now() - timedelta(hours=3)
    TrackingHit.objects.bulk_create([
        TrackingHit(kind=TrackingHitKind.OPEN, delivery_id=opened.pk, occurred_at=earlier),
        TrackingHit(kind=TrackingHitKind.OPEN, delivery_id=clicked.pk, occurred_at=earlier),
        TrackingHit(kind=TrackingHitKind.CLICK, delivery_id=clicked.pk, link_id=link.pk,
                    occurred_at=earlier + timedelta(hours=1)),
    ])
    fold_tracking_hits()
    assert dict(Contact.objects.filter(pk__in=[opened.contact_id, clicked.contact_id])
                .values_list("pk", "last_activity_at")) == {
        opened.contact_id: earlier, clicked.contact_id: earlier + timedelta(hours=1)}
