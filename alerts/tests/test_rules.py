"""Each rule opened and resolved by a real condition, announced to a loopback Slack-style receiver exactly
once per opening and once per resolution."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_q.brokers import get_broker
from django_q.tasks import async_task

from aicmo_site.testing.worker import wait_for
from alerts.models import Alert, AlertStatus
from alerts.services import alert_channel_create, alerts_check
from alerts.tests.conftest import opened, resolved
from crm.choices import RunStatus
from crm.models import EngagementEvent
from crm.tests.factories import ContactFactory, EnrichmentRunFactory
from gateways.capabilities import OutgoingEmail
from gateways.services import account_update
from gateways.services.email import open_email_session
from gateways.testing.ports import free_port
from publishing import dispatcher
from publishing.email.choices import DeliveryStatus, InboundEventKind
from publishing.email.models import EmailDelivery
from publishing.email.sender import worker_run
from publishing.email.services.feedback import inbound_event_apply
from publishing.models import JobEvent
from publishing.tests.channels import channel_on
from publishing.tests.email.factories import EmailDeliveryFactory, smtp_account
from publishing.tests.email.helpers import ready_campaign, started
from publishing.tests.factories import JobFactory

pytestmark = pytest.mark.django_db


def open_alerts(rule: str) -> list[Alert]:
    return list(Alert.objects.filter(rule=rule, status=AlertStatus.OPEN))


def send_emails(count: int) -> None:
    """One session each, as separate sends do: each starts with the first account again."""
    for n in range(count):
        with open_email_session() as session:
            session.send(OutgoingEmail(to=f"reader{n}@example.com", subject="Hello", text="Hi",
                                       from_email="news@aicmo.example"))


def test_a_dead_provider_opens_provider_down_and_failover_rate_and_both_resolve_once_it_answers(
        quiet_rules, slack, smtp_server, settings):
    quiet_rules("provider_down", "failover_rate")
    settings.GATEWAYS_BREAKER_COOLDOWN_SECONDS = 0
    dead = smtp_account(smtp_server, name="primary", priority=1, port=free_port())
    smtp_account(smtp_server, name="backup", priority=2)
    send_emails(6)  # each goes out through the backup after the primary refuses to connect

    alerts_check()
    alerts_check()
    [down] = open_alerts("provider_down")
    [failover] = open_alerts("failover_rate")
    assert down.subject == "primary" and failover.subject == "email_sending"
    assert "Provider primary is down" in down.title
    assert len(opened(slack())) == 2

    account_update(account=dead, settings=smtp_server.adapter_settings(from_email="news@aicmo.example"))
    send_emails(20)
    alerts_check()
    alerts_check()
    assert open_alerts("provider_down") == [] and open_alerts("failover_rate") == []
    texts = slack()
    assert (len(opened(texts)), len(resolved(texts))) == (2, 2)
    assert any("primary" in text for text in resolved(texts))


def test_a_failing_receiver_opens_the_publishing_error_rate_which_resolves_when_the_hour_has_passed(
        quiet_rules, slack, httpserver):
    quiet_rules("publishing_error_rate")
    httpserver.expect_request("/slack-bad", method="POST").respond_with_data("invalid_payload", status=400)
    httpserver.expect_request("/slack-ok", method="POST").respond_with_data("ok")
    bad = channel_on(httpserver, "slack", path="/slack-bad")
    for channel in (bad, bad, channel_on(httpserver, "slack", path="/slack-ok")):
        JobFactory(channel=channel)
    dispatcher.dispatch_once()

    alerts_check()
    [alert] = open_alerts("publishing_error_rate")
    assert alert.value == pytest.approx(66.67)
    assert "2 of 3" in alert.title

    JobEvent.objects.update(created_at=timezone.now() - timedelta(hours=2))
    alerts_check()
    assert open_alerts("publishing_error_rate") == []
    texts = slack()
    assert (len(opened(texts)), len(resolved(texts))) == (1, 1)


def test_a_bounce_and_complaint_storm_opens_both_rates_until_the_day_has_passed(quiet_rules, slack):
    quiet_rules("bounce_rate", "complaint_rate")
    deliveries = [EmailDeliveryFactory(status=DeliveryStatus.SENT, sent_at=timezone.now(),
                                       message_id=f"<m{n}@mail.aicmo.example>") for n in range(20)]
    for n, delivery in enumerate(deliveries[:5]):
        inbound_event_apply(source="test", event_id=f"b{n}", kind=InboundEventKind.BOUNCE,
                            message_ids=(delivery.message_id,))
    inbound_event_apply(source="test", event_id="c1", kind=InboundEventKind.COMPLAINT,
                        message_ids=(deliveries[10].message_id,))

    alerts_check()
    [bounce] = open_alerts("bounce_rate")
    [complaint] = open_alerts("complaint_rate")
    assert (bounce.value, complaint.value) == (25.0, 5.0)
    assert "0.3%" in complaint.advice

    EngagementEvent.objects.update(occurred_at=timezone.now() - timedelta(hours=25))
    alerts_check()
    assert open_alerts("bounce_rate") == [] and open_alerts("complaint_rate") == []
    texts = slack()
    assert (len(opened(texts)), len(resolved(texts))) == (2, 2)


def test_a_stalled_enrichment_run_opens_and_resolves_when_it_ends(quiet_rules, slack):
    quiet_rules("enrichment_stalled")
    run = EnrichmentRunFactory(status=RunStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2))
    alerts_check()
    [alert] = open_alerts("enrichment_stalled")
    assert alert.subject == f"enrichment run {run.pk}"

    run.status = RunStatus.COMPLETED
    run.save()
    alerts_check()
    assert open_alerts("enrichment_stalled") == []
    assert (len(opened(slack())), len(resolved(slack()))) == (1, 1)


def test_a_send_with_no_progress_is_stuck_until_a_worker_sends_it(quiet_rules, slack, smtp_server):
    quiet_rules("stuck_work")
    email_campaign, _contacts = ready_campaign(smtp_server, 2)
    started(email_campaign)
    type(email_campaign).objects.filter(pk=email_campaign.pk).update(
        started_at=timezone.now() - timedelta(hours=2), updated_at=timezone.now() - timedelta(hours=2))

    alerts_check()
    [alert] = open_alerts("stuck_work")
    assert alert.subject == "Email send"

    worker_run(email_campaign_id=email_campaign.pk)
    assert EmailDelivery.objects.filter(status=DeliveryStatus.SENT).count() == 2
    alerts_check()
    assert open_alerts("stuck_work") == []
    assert (len(opened(slack())), len(resolved(slack()))) == (1, 1)


def test_media_disk_space_opens_below_its_threshold_and_resolves_above(quiet_rules, slack):
    quiet_rules(media_disk_space=100)  # any real disk has less than 100% free
    alerts_check()
    assert len(open_alerts("media_disk_space")) == 1
    quiet_rules(media_disk_space=0)
    alerts_check()
    assert open_alerts("media_disk_space") == []
    assert (len(opened(slack())), len(resolved(slack()))) == (1, 1)


def test_media_in_a_bucket_never_raise_the_media_disk_alert(quiet_rules, slack, make_media_bucket):
    make_media_bucket()
    quiet_rules(media_disk_space=100)
    alerts_check()
    assert open_alerts("media_disk_space") == [] and slack() == []


def test_an_alert_is_announced_once_however_often_it_is_checked_and_reminds_after_the_interval(
        quiet_rules, slack):
    quiet_rules(media_disk_space=100)
    for _ in range(3):
        alerts_check()
    assert len(slack()) == 1
    channel = slack.channel
    channel.notices.update(sent_at=timezone.now() - timedelta(minutes=channel.repeat_minutes + 1))
    alerts_check()
    alerts_check()
    texts = slack()
    assert len(texts) == 2 and texts[1].startswith("🟠 Still open since")


def test_the_command_evaluates_once_and_says_what_happened(quiet_rules, slack, capsys):
    quiet_rules(media_disk_space=100)
    call_command("check_alerts")
    out = capsys.readouterr().out
    assert "Opened: The media folder's disk" in out
    assert "1 opened, 0 resolved, 0 still open; 1 notices sent, 0 failed." in out


def test_a_contact_factory_is_not_needed_for_quiet_checks(quiet_rules):
    quiet_rules()
    ContactFactory()
    report = alerts_check()
    assert (report.opened, report.resolved, report.rule_errors) == ([], [], {})


@pytest.mark.worker
def test_a_worker_that_is_not_running_opens_queue_alerts_which_resolve_once_it_drains_the_queue(
        quiet_rules, qcluster, httpserver):
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    alert_channel_create(name="Ops", kind="slack", target=httpserver.url_for("/slack"))
    quiet_rules(queue_depth=0, oldest_task_age=0)
    async_task("aicmo_site.tasks.worker_echo", "waiting")

    alerts_check()
    assert len(open_alerts("queue_depth")) == 1 and len(open_alerts("oldest_task_age")) == 1

    cluster = qcluster()
    wait_for(lambda: get_broker().queue_size() == 0, timeout=60, message=f"the queue to drain\n{cluster.output()}")
    alerts_check()
    assert open_alerts("queue_depth") == [] and open_alerts("oldest_task_age") == []
    texts = [json.loads(request.get_data())["text"] for request, _ in httpserver.log]
    assert (len(opened(texts)), len(resolved(texts))) == (2, 2)
