"""A pause (one UPDATE of every queued delivery of the send) meeting a worker that gives its claims
back (one UPDATE of its queued deliveries) on PostgreSQL: each locks rows as its plan reaches them, so
the two must take them in the same order or they can deadlock. Two connections do both at once,
round after round, with the table's rows stored out of id order as a busy table's are, and the plans
a large table gets (index scans: the send's queued rows in the claim index, the worker's by id)."""

import random
import threading
import time

import pytest
from django import db
from django.db import OperationalError, connection, transaction

from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.models import EmailCampaign, EmailDelivery
from publishing.email.sender.claiming import release
from publishing.email.services import email_campaign_pause
from publishing.tests.email.helpers import ready_campaign, started

pytestmark = [pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL row locks"),
              pytest.mark.django_db(transaction=True)]
ROUNDS = 40
OWNER = "worker-a"


def _claimed_out_of_order(email_campaign, rng: random.Random) -> list[int]:
    """Every delivery queued again and claimed by OWNER, each rewritten in a random order (a new row
    version each, so the heap's order is no longer the ids'). One transaction: committed one by one, the
    rewrites were four fifths of the test's time."""
    EmailCampaign.objects.filter(pk=email_campaign.pk).update(status=SendStatus.SENDING)
    ids = list(EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id).values_list("pk", flat=True))
    rng.shuffle(ids)
    with transaction.atomic():
        for pk in ids:
            EmailDelivery.objects.filter(pk=pk).update(status=DeliveryStatus.QUEUED, lease_owner=OWNER,
                                                       next_attempt_at=None)
    return sorted(ids)


def _at_once(*calls) -> list[BaseException]:
    gate = threading.Barrier(len(calls))
    errors: list[BaseException] = []

    def run(call):
        try:
            with db.connection.cursor() as cursor:
                # A few hundred rows would be read by a sequential scan; at scale they are not.
                cursor.execute("SET enable_seqscan = off")
            gate.wait()
            call()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            db.connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


def test_a_pause_and_a_worker_giving_its_claims_back_never_deadlock(smtp_server):
    rng = random.Random(14)
    email_campaign, _ = ready_campaign(smtp_server, 200)
    started(email_campaign)
    deadlocks = []
    for _ in range(ROUNDS):
        ids = _claimed_out_of_order(email_campaign, rng)
        # The pause writes its send's row and event first: the give-back starts a little later in some
        # rounds, so that the two row scans meet at different points.
        late = rng.uniform(0, 0.01)

        def give_back(ids=ids, late=late):
            time.sleep(late)
            release(ids, OWNER)  # the worker's own give-back

        errors = _at_once(
            lambda: email_campaign_pause(email_campaign=EmailCampaign.objects.get(pk=email_campaign.pk)), give_back)
        deadlocks += [e for e in errors if isinstance(e, OperationalError) and "deadlock" in str(e)]
        assert not [e for e in errors if e not in deadlocks], errors
    assert deadlocks == []
    assert not EmailDelivery.objects.filter(campaign_id=email_campaign.campaign_id).exclude(lease_owner="").exists()
