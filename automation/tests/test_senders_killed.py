"""The senders of journeys' external effects killed with SIGKILL at random points: a real django-q2 worker
delivering the webhook step's messages (to a pytest-httpserver receiver that checks signatures) and one
sending notify digests (to an aiosmtpd server), each killed a few times mid-run.

Webhooks are delivered at least once with a stable webhook-id, which the receiver drops retries by: a
message in flight when its worker died is POSTed again once its claim has lapsed, with the same key, and
only such a message. Digests are sent at most once: the one in flight when its worker died becomes
"outcome unknown" once its lease has passed, and is never sent again on a guess; none is left unsent."""

import random
import threading
import time
from collections import Counter
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from django_q.tasks import async_task
from werkzeug import Response

from aicmo_site.testing.worker import QClusterProcess, wait_for
from automation.choices import NotificationStatus
from automation.models import JourneyEnrolment, JourneyNotification, JourneyStep
from automation.services import journey_enrol, journeys_run_due
from automation.services.notifications import journey_notifications_send
from automation.tests.factories import journey
from automation.tests.test_worker import WORKER_ENV
from crm.models import Contact
from publishing.tests.email.factories import smtp_account
from publishing.tests.factories import UserFactory
from webhooks.models import MessageStatus, WebhookMessage
from webhooks.services import messages_deliver_due, subscription_create
from webhooks.tests.conftest import verified

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]
CONTACTS = 200
KILLS = 3
# The test settings' cluster runs one worker: one message or digest in flight at each kill.
IN_FLIGHT_PER_KILL = 1


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def contacts(count: int) -> list[Contact]:
    Contact.objects.bulk_create([Contact(email=f"k{n}@example.org", domain="example.org") for n in range(count)])
    return list(Contact.objects.order_by("pk"))


def kill_while_working(task: str, progress, total: int, *, rng, seed) -> int:
    """Starts a worker with the task queued, kills it at a random moment once it has made progress, and
    again, until the work is done; returns how many kills landed before it was."""
    kills = 0
    for _ in range(KILLS):
        before = progress()
        if before >= total:
            break
        async_task(task)
        # Small claims: a killed worker's claimed messages wait for its lease to lapse.
        cluster = QClusterProcess(extra_env={**WORKER_ENV, "WEBHOOKS_BATCH_SIZE": "10"}).start()
        try:
            wait_for(lambda before=before: progress() > before, timeout=60,
                     message=f"the worker's progress (seed {seed})")
            time.sleep(rng.uniform(0, 0.4))  # a random point in time, not a condition to wait for
            cluster.kill()
            kills += 1
        finally:
            cluster.stop()
    return kills


def test_webhook_sender_killed_posts_each_contact_s_message_none_skipped_retries_only_in_flight(httpserver):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    subscription, secret = subscription_create(name="CRM", url=httpserver.url_for("/hook"),
                                               events=["contact.created"])
    posts: list[tuple[str, int]] = []
    lock = threading.Lock()

    def receive(request):
        body = verified(request, secret)
        with lock:
            posts.append((request.headers["webhook-id"], body["data"]["enrolment_id"]))
        time.sleep(0.01)  # a receiver doing some work, so kills can land mid-delivery
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receive)
    trip = journey(name="Hooks", steps=[
        {"key": "hook", "kind": "call_webhook", "config": {"subscription_id": subscription.pk}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    contacts(CONTACTS)
    journey_enrol(journey=trip, contacts=Contact.objects.all(), source="test")
    journeys_run_due()
    messages = WebhookMessage.objects.filter(subscription=subscription)
    assert messages.count() == CONTACTS

    kills = kill_while_working("webhooks.tasks.deliver_due", lambda: len(posts), CONTACTS, rng=rng, seed=seed)
    cut_short = messages.exclude(status=MessageStatus.DELIVERED).count()
    assert kills >= 2 and cut_short, f"the workers finished before most kills: they tested little (seed {seed})"
    # The leases of the killed workers lapse (webhooks' _lease), as if that time had passed; then a last run
    # delivers what they had claimed (first POSTs, but for the message each was sending when killed).
    messages.filter(status=MessageStatus.PENDING).update(next_attempt_at=timezone.now())
    messages_deliver_due()

    assert set(messages.values_list("status", flat=True)) == {MessageStatus.DELIVERED}
    enrolments = dict(JourneyEnrolment.objects.filter(journey=trip).values_list("pk", "contact_id"))
    expected = {f"msg_journey_{pk}_0": pk for pk in enrolments}
    assert dict(posts) == expected, f"seed {seed}"  # every key, each about its own contact, none skipped
    per_key = Counter(key for key, _ in posts)
    repeated = sum(count - 1 for count in per_key.values())
    assert repeated <= kills * IN_FLIGHT_PER_KILL, (f"{repeated} retries for {kills} kills (seed {seed})", per_key)


def test_notification_sender_killed_sends_each_digest_at_most_once_and_leaves_none_unsent(smtp_server):
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    smtp_account(smtp_server)
    sales = UserFactory(email="sales@aicmo.example")
    trip = journey(name="Digests", steps=[
        {"key": "tell", "kind": "notify", "config": {"user_id": sales.pk}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    step = JourneyStep.objects.get(journey=trip, key="tell")
    people = contacts(CONTACTS)
    now = timezone.now()
    # One digest per contact (as many runner batches would make), each naming its contact.
    JourneyNotification.objects.bulk_create([JourneyNotification(step=step, user=sales, contact_ids=[contact.pk],
                                                                 created_at=now) for contact in people])

    def named(mail) -> str:
        return next(line.split()[1] for line in mail.message().get_body(("plain",)).get_content().splitlines()
                    if line.startswith("- "))

    kills = kill_while_working("automation.tasks.journey_notifications_send", lambda: len(smtp_server.messages),
                               CONTACTS, rng=rng, seed=seed)
    digests = JourneyNotification.objects.all()
    assert kills >= 2 and digests.filter(status=NotificationStatus.PENDING).exists(), (
        f"the workers finished before most kills: they tested little (seed {seed})")
    # The leases of the killed workers pass, as if that time had gone by; then a last run.
    digests.filter(status=NotificationStatus.SENDING).update(claimed_at=timezone.now() - timedelta(hours=1))
    journey_notifications_send()

    statuses = Counter(digests.values_list("status", flat=True))
    received = Counter(named(mail) for mail in smtp_server.messages)
    assert set(statuses) <= {NotificationStatus.SENT, NotificationStatus.UNKNOWN}, statuses  # none left unsent
    assert all(count == 1 for count in received.values()), f"a digest sent twice (seed {seed})"
    sent = set(Contact.objects.filter(pk__in=[ids[0] for ids in digests.filter(
        status=NotificationStatus.SENT).values_list("contact_ids", flat=True)]).values_list("email", flat=True))
    assert sent <= set(received)
    # Only a digest in flight at a kill is unknown (it may or may not have gone: never sent again).
    assert statuses[NotificationStatus.UNKNOWN] <= kills * IN_FLIGHT_PER_KILL, (statuses, f"seed {seed}")
    assert len(received) - len(sent) <= statuses[NotificationStatus.UNKNOWN]
