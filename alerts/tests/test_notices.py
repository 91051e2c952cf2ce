import json

import pytest
from django.core.cache import cache

from alerts.models import AlertNotice
from alerts.services import alert_channel_create, alerts_check
from publishing.tests.email.factories import smtp_account
from webhooks.services import subscription_create
from webhooks.tasks import deliver_due
from webhooks.tests.conftest import verified

pytestmark = pytest.mark.django_db


def test_email_notices_go_to_each_address_through_the_sending_provider(quiet_rules, smtp_server):
    smtp_account(smtp_server)
    alert_channel_create(name="On call", kind="email", target="ops@example.com, cto@example.com")
    quiet_rules(media_disk_space=100)
    alerts_check()
    quiet_rules(media_disk_space=0)
    alerts_check()

    assert sorted(smtp_server.recipients()) == sorted(["ops@example.com", "cto@example.com"] * 2)
    subjects = [mail.message()["Subject"] for mail in smtp_server.messages]
    assert sum(subject.startswith("[AICMO] The media folder") for subject in subjects) == 2
    assert sum(subject.startswith("[AICMO] Resolved: ") for subject in subjects) == 2


def test_without_a_sending_provider_the_email_notice_fails_and_is_sent_once_one_exists(quiet_rules, smtp_server):
    alert_channel_create(name="On call", kind="email", target="ops@example.com")
    quiet_rules(media_disk_space=100)
    report = alerts_check()
    assert report.notices_failed == 1
    assert AlertNotice.objects.get().error

    smtp_account(smtp_server)
    alerts_check()
    alerts_check()
    assert smtp_server.recipients() == ["ops@example.com"]
    assert AlertNotice.objects.get().ok


def test_discord_gets_its_own_payload(quiet_rules, httpserver):
    httpserver.expect_request("/discord", method="POST").respond_with_data("", status=204)
    alert_channel_create(name="Discord", kind="discord", target=httpserver.url_for("/discord"))
    quiet_rules(media_disk_space=100)
    alerts_check()
    [(request, _)] = httpserver.log
    content = json.loads(request.get_data())["content"]
    assert content.startswith("🔴 AICMO alert: The media folder") and "What to do:" in content
    assert "https://aicmo.example/alerts/" in content


def test_a_failing_receiver_is_told_on_the_next_check_and_only_once(quiet_rules, httpserver):
    httpserver.expect_ordered_request("/slack").respond_with_data("oops", status=500)
    httpserver.expect_ordered_request("/slack").respond_with_data("ok")
    alert_channel_create(name="Ops", kind="slack", target=httpserver.url_for("/slack"))
    quiet_rules(media_disk_space=100)
    assert alerts_check().notices_failed == 1
    assert alerts_check().notices_sent == 1
    assert alerts_check().notices_sent == 0
    assert len(httpserver.log) == 2


def test_no_notice_to_a_private_address_unless_allowed(quiet_rules, httpserver, settings):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    httpserver.expect_request("/slack").respond_with_data("ok")
    alert_channel_create(name="Ops", kind="slack", target=httpserver.url_for("/slack"))
    quiet_rules(media_disk_space=100)
    alerts_check()
    assert httpserver.log == []
    assert "refused" in AlertNotice.objects.get().error


def test_signed_webhooks_announce_alert_opened_and_resolved(quiet_rules, httpserver):
    cache.clear()
    _, secret = subscription_create(name="Pager", url=httpserver.url_for("/events"),
                                    events=["alert.opened", "alert.resolved"])
    httpserver.expect_request("/events").respond_with_data("ok")
    quiet_rules(media_disk_space=100)
    alerts_check()
    quiet_rules(media_disk_space=0)
    alerts_check()
    deliver_due()
    bodies = [verified(request, secret) for request, _ in httpserver.log]
    assert [body["type"] for body in bodies] == ["alert.opened", "alert.resolved"]
    assert bodies[1]["data"]["rule"] == "media_disk_space" and bodies[1]["data"]["resolved_at"]
