"""A notify step posting its digest to a Slack channel: through the gateways' channel-posting account
chosen in the step (a local server speaking Slack's incoming-webhook contract), at most once, and an
answer that never came is "outcome unknown", never posted again on a guess."""

import time

import pytest
from django.core.exceptions import ValidationError
from werkzeug import Response

from aicmo_site.testing.worker import wait_for
from automation import builder
from automation.choices import NotificationStatus, StepKind
from automation.models import JourneyNotification
from automation.services.notifications import journey_notifications_send
from automation.tests.factories import journey
from automation.tests.test_runner import END, run
from crm.tests.factories import ContactFactory
from gateways.capabilities import Capability
from gateways.services import account_create

pytestmark = pytest.mark.django_db
HOOK = "/services/T0001/B0002/journeys"


def slack_account(httpserver, *, timeout: float = 5.0, adapter: str = "slack"):
    return account_create(capability=Capability.CHANNEL_POSTING, adapter=adapter, name=f"{adapter} sales",
                          timeout_seconds=timeout, rate_limit_count=1000, rate_limit_seconds=1,
                          credentials={"webhook_url": httpserver.url_for(HOOK)})


def notify(account) -> list[dict]:
    return [{"key": "act", "kind": "notify", "config": {"slack_account_id": account.pk}, "next": "end"}, END]


def test_one_digest_per_batch_is_posted_to_the_slack_channel_once(httpserver, settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    account = slack_account(httpserver)
    httpserver.expect_oneshot_request(HOOK, method="POST").respond_with_data("ok", content_type="text/plain")
    ann, bob = ContactFactory(email="ann@example.com"), ContactFactory(email="bob@example.com")
    trip = run(ann, bob, steps=notify(account))
    assert JourneyNotification.objects.get().slack_account == account

    assert journey_notifications_send().sent == 1
    assert journey_notifications_send().sent == 0
    [(request, _answer)] = httpserver.log
    body = request.get_json()
    assert body["text"].startswith("*Welcome: 2 contacts reached “act”*\n")
    assert "ann@example.com" in body["text"] and f"https://aicmo.example/journeys/{trip.pk}/" in body["text"]
    notification = JourneyNotification.objects.get()
    assert notification.status == NotificationStatus.SENT and notification.sent_at


def test_slack_refusing_the_message_marks_it_not_sent_with_the_reason(httpserver):
    account = slack_account(httpserver)
    httpserver.expect_request(HOOK).respond_with_data("invalid_payload", status=400)
    run(ContactFactory(), steps=notify(account))
    assert journey_notifications_send().failed == 1
    notification = JourneyNotification.objects.get()
    assert notification.status == NotificationStatus.FAILED and "invalid_payload" in notification.error


def test_no_answer_in_time_is_outcome_unknown_and_never_posted_again(httpserver):
    account = slack_account(httpserver, timeout=0.5)
    received = []

    def slow(request):
        received.append(request.get_json())
        time.sleep(1.5)
        return Response("ok")

    httpserver.expect_request(HOOK).respond_with_handler(slow)
    run(ContactFactory(), steps=notify(account))
    report = journey_notifications_send()
    assert (report.sent, report.unknown) == (0, 1)
    notification = JourneyNotification.objects.get()
    assert notification.status == NotificationStatus.UNKNOWN and "may" in notification.error
    assert journey_notifications_send().unknown == 0
    assert len(received) == 1
    # The server answers after the test gave up waiting: let it, or its answer lands in the next test's log.
    wait_for(lambda: len(httpserver.log) == 1, timeout=10, message="the slow answer to be logged")


def test_a_removed_slack_account_fails_the_digest_with_a_reason(httpserver):
    account = slack_account(httpserver)
    run(ContactFactory(), steps=notify(account))
    account.delete()
    assert journey_notifications_send().failed == 1
    assert JourneyNotification.objects.get().error == "The Slack account of this step was removed."
    assert httpserver.log == []


def test_the_step_must_name_a_slack_account(httpserver):
    discord = slack_account(httpserver, adapter="discord")
    with pytest.raises(ValidationError) as refused:
        journey(steps=notify(discord))
    assert "Choose the Slack channel to post to" in str(refused.value)


def test_the_builder_offers_slack_accounts_and_keeps_the_choice(httpserver, client, make_user):
    account = slack_account(httpserver)
    values = {"ask": "slack_account_id", "user_id": "", "slack_account_id": str(account.pk)}
    config = builder.config_from_values(StepKind.NOTIFY, values)
    assert config == {"slack_account_id": account.pk}
    assert builder.values_from_config(StepKind.NOTIFY, config)["ask"] == "slack_account_id"
    assert builder.config_from_values(StepKind.NOTIFY, {"ask": "user_id", "user_id": "7"}) == {"user_id": 7}
    client.force_login(make_user("marketer", role="Marketer"))
    page = client.get("/journeys/new/").content.decode()
    assert f'<option value="{account.pk}">slack sales</option>' in page
