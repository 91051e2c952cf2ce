import time
from datetime import timedelta

import pytest
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from standardwebhooks import WebhookVerificationError
from werkzeug import Response

from webhooks import services
from webhooks.events import emit, emit_many, subscribed_events
from webhooks.events_catalogue import EVENTS
from webhooks.models import MessageStatus, WebhookDelivery, WebhookMessage, WebhookOutbox
from webhooks.tasks import deliver_due
from webhooks.tests.conftest import verified

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def quick_retries(settings):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = [0, 0]


def test_an_event_nobody_subscribed_to_writes_nothing_and_after_the_first_look_costs_no_query(
        subscribe, django_assert_num_queries):
    subscribe("contact.created")
    assert emit("email.sent", {"delivery_id": 1}) == 0
    with django_assert_num_queries(0):
        assert emit_many("email.sent", [{"delivery_id": n} for n in range(1000)]) == 0
    assert not WebhookOutbox.objects.exists()


def test_a_batch_is_one_insert_however_many_events(subscribe, django_assert_num_queries):
    subscribe("email.sent")
    subscribed_events()
    with django_assert_num_queries(1):
        assert emit_many("email.sent", [{"delivery_id": n} for n in range(500)]) == 500
    assert WebhookOutbox.objects.get().payloads[499] == {"delivery_id": 499}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_each_event_type_is_delivered_with_a_valid_standard_webhooks_signature(event, subscribe, httpserver):
    subscription, secret = subscribe(event)
    httpserver.expect_request("/hook", method="POST").respond_with_data("thanks")
    emit(event, {"answer": 42})

    assert deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}
    request = httpserver.log[0][0]
    body = verified(request, secret)
    assert body["type"] == event and body["data"] == {"answer": 42}
    message = WebhookMessage.objects.get()
    assert request.headers["webhook-id"] == message.message_id
    assert message.status == MessageStatus.DELIVERED
    assert message.deliveries.get().response_body == "thanks"


def test_a_signature_made_with_another_secret_is_refused_by_the_receivers_library(subscribe, httpserver):
    subscribe("contact.created")
    httpserver.expect_request("/hook").respond_with_data("ok")
    emit("contact.created", {"contact_id": 1})
    deliver_due()
    _, other_secret = services.subscription_create(name="Other", url="https://example.org/", events=["job.failed"])
    with pytest.raises(WebhookVerificationError):
        verified(httpserver.log[0][0], other_secret)


def test_a_5xx_is_retried_with_the_same_webhook_id_and_the_log_keeps_each_answer(subscribe, httpserver):
    subscription, secret = subscribe("job.failed")
    httpserver.expect_ordered_request("/hook").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook").respond_with_data("ok")
    emit("job.failed", {"job_id": 7})

    assert deliver_due() == {"delivered": 0, "retrying": 1, "failed": 0}
    assert deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}

    first, second = (entry[0] for entry in httpserver.log)
    assert first.headers["webhook-id"] == second.headers["webhook-id"]
    assert verified(second, secret)["data"] == {"job_id": 7}
    attempts = list(WebhookDelivery.objects.order_by("pk").values_list("status_code", "succeeded"))
    assert attempts == [(503, False), (200, True)]
    assert "busy" in WebhookDelivery.objects.order_by("pk").first().error
    message = WebhookMessage.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.DELIVERED, 2)


def test_a_receiver_failing_past_the_last_retry_is_given_up_and_can_be_retried_by_hand(subscribe, httpserver):
    subscribe("job.failed")
    httpserver.expect_request("/hook").respond_with_data("down", status=500)
    emit("job.failed", {"job_id": 7})

    outcomes = [deliver_due() for _ in range(3)]
    assert [outcome["failed"] for outcome in outcomes] == [0, 0, 1]
    message = WebhookMessage.objects.get()
    assert (message.status, message.attempts, message.last_status_code) == (MessageStatus.FAILED, 3, 500)
    assert deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}

    httpserver.clear()
    httpserver.expect_request("/hook").respond_with_data("back")
    services.message_retry(message=message)
    assert deliver_due()["delivered"] == 1


def test_a_retry_waits_for_its_backoff(subscribe, httpserver, settings):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = [3600]
    subscribe("job.failed")
    httpserver.expect_request("/hook").respond_with_data("down", status=502)
    emit("job.failed", {"job_id": 7})

    assert deliver_due() == {"delivered": 0, "retrying": 1, "failed": 0}
    assert deliver_due() == {"delivered": 0, "retrying": 0, "failed": 0}
    assert len(httpserver.log) == 1


def test_no_delivery_to_a_private_address_unless_allowed(subscribe, httpserver, settings):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    subscribe("contact.created")
    httpserver.expect_request("/hook").respond_with_data("ok")
    emit("contact.created", {"contact_id": 1})

    assert deliver_due() == {"delivered": 0, "retrying": 1, "failed": 0}
    assert httpserver.log == []
    message = WebhookMessage.objects.get()
    assert "refused" in message.last_error and "loopback" in message.last_error

    settings.GATEWAYS_ALLOWED_ENDPOINTS = [f"{httpserver.host}:{httpserver.port}"]
    assert deliver_due() == {"delivered": 1, "retrying": 0, "failed": 0}
    assert len(httpserver.log) == 1


def test_events_emitted_in_a_rolled_back_transaction_are_never_sent(subscribe):
    subscribe("contact.created")
    with pytest.raises(RuntimeError), transaction.atomic():
        emit("contact.created", {"contact_id": 1})
        raise RuntimeError
    assert not WebhookOutbox.objects.exists() and deliver_due()["delivered"] == 0


def test_many_events_in_one_transaction_ask_the_worker_once(subscribe, django_capture_on_commit_callbacks):
    subscribe("contact.created")
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(20):
            emit("contact.created", {"contact_id": n})
    assert len(callbacks) == 1


def test_an_inactive_subscription_receives_nothing(subscribe):
    subscription, _ = subscribe("contact.created")
    services.subscription_update(subscription=subscription, active=False)
    assert emit("contact.created", {"contact_id": 1}) == 0


def test_unknown_events_are_refused():
    with pytest.raises(ValueError):
        emit("contact.teleported", {})


def test_a_batch_becomes_one_message_per_event_and_subscription(subscribe, httpserver):
    subscribe("email.sent", path="/a", name="A")
    subscribe("email.sent", "email.opened", path="/b", name="B")
    httpserver.expect_request("/a").respond_with_data("ok")
    httpserver.expect_request("/b").respond_with_data("ok")
    emit_many("email.sent", [{"delivery_id": n} for n in range(3)])

    assert deliver_due() == {"delivered": 6, "retrying": 0, "failed": 0}
    assert not WebhookOutbox.objects.exists()
    ids = {request.headers["webhook-id"] for request, _ in httpserver.log}
    assert len(ids) == 6


def test_a_killed_workers_claimed_messages_are_due_again_within_one_lease_not_minutes(subscribe, settings):
    settings.WEBHOOKS_TIMEOUT_SECONDS = 10
    subscribe("contact.created")
    emit_many("contact.created", [{"contact_id": n} for n in range(5)])
    services.outbox_expand()
    claimed_at = timezone.now()
    ids, _ = services._claim(10, claimed_at)  # a worker claims the batch, then is killed before any POST

    assert len(ids) == 5
    latest = WebhookMessage.objects.aggregate(latest=Max("next_attempt_at"))["latest"]
    assert latest - claimed_at <= timedelta(seconds=3 * 10 + 10 + 1)


def test_a_slow_batch_keeps_the_lease_on_its_untried_messages(subscribe, httpserver, monkeypatch):
    """Without renewal the third message's lease (3 s from the claim) lapses while the first two are POSTed
    (1.6 s each), and another worker could take it; renewed before each POST, none lapses."""
    monkeypatch.setattr(services, "_lease", lambda: timedelta(seconds=3))
    subscribe("contact.created")

    def slow_receiver(request):
        time.sleep(1.6)
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(slow_receiver)
    emit_many("contact.created", [{"contact_id": n} for n in range(3)])
    lapsed = []
    deliver = services.message_deliver

    def watched(*, message):
        lapsed.extend(WebhookMessage.objects.filter(status=MessageStatus.PENDING, next_attempt_at__lte=timezone.now())
                      .exclude(pk=message.pk).values_list("pk", flat=True))
        return deliver(message=message)

    monkeypatch.setattr(services, "message_deliver", watched)
    assert deliver_due() == {"delivered": 3, "retrying": 0, "failed": 0}
    assert lapsed == []


def test_a_message_another_worker_took_after_the_lease_lapsed_is_left_to_it(subscribe):
    subscribe("contact.created")
    emit_many("contact.created", [{"contact_id": n} for n in range(3)])
    services.outbox_expand()
    ids, held_until = services._claim(10, timezone.now())
    taken = WebhookMessage.objects.order_by("pk").last()
    WebhookMessage.objects.filter(pk=taken.pk).update(next_attempt_at=held_until + timedelta(seconds=1))

    held, renewed_until = services._lease_renew(ids, held_until)

    assert held == set(ids) - {taken.pk}
    assert set(WebhookMessage.objects.filter(next_attempt_at=renewed_until).values_list("pk", flat=True)) == held
