from datetime import timedelta

import pytest
from django.utils import timezone

from alerts.models import AlertChannel, AlertRule
from alerts.services import alert_channel_create, alerts_check
from crm.choices import RunStatus
from crm.tests.factories import EnrichmentRunFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, make_user):
    """The test client, logged in as a new user holding `role`."""
    return lambda role: client.force_login(make_user(role.lower(), role=role)) or client


def test_the_page_lists_open_and_recent_alerts_with_what_to_do(logged_in, quiet_rules, django_assert_num_queries):
    client = logged_in("Analyst")
    quiet_rules(media_disk_space=100, enrichment_stalled=30)
    for _ in range(3):
        EnrichmentRunFactory(status=RunStatus.RUNNING, started_at=timezone.now() - timedelta(hours=1))
    alerts_check()
    with django_assert_num_queries(7):
        response = client.get("/alerts/")
    assert len(response.context["page"].object_list) == 4
    page = response.content.decode()
    assert "The media folder" in page and "Delete unused assets" in page
    assert "Add a channel" not in page  # channels hold webhook URLs: Admins only


def test_an_admin_adds_and_removes_a_channel_and_changes_a_threshold(logged_in):
    client = logged_in("Admin")
    client.post("/alerts/channels/", {"name": "Ops", "kind": "slack", "target": "https://hooks.slack.com/x",
                                      "repeat_minutes": 60})
    channel = AlertChannel.objects.get()
    assert (channel.kind, channel.repeat_minutes) == ("slack", 60)
    client.post("/alerts/rules/complaint_rate/", {"threshold": "0.5", "enabled": "on"})
    assert AlertRule.objects.get(key="complaint_rate").threshold == 0.5
    client.post(f"/alerts/channels/{channel.pk}/delete/")
    assert not AlertChannel.objects.exists()


def test_a_marketer_cannot_change_channels_or_rules(logged_in):
    client = logged_in("Marketer")
    assert client.post("/alerts/channels/", {"name": "x", "kind": "slack", "target": "https://x.example/",
                                             "repeat_minutes": 0}).status_code == 403
    assert client.post("/alerts/rules/complaint_rate/", {"threshold": "9"}).status_code == 403
    alert_channel_create(name="Ops", kind="slack", target="https://hooks.slack.com/x")
    assert "hooks.slack.com" not in client.get("/alerts/").content.decode()


@pytest.mark.parametrize("role, sees", [("Analyst", False), ("Admin", True)])
def test_channel_urls_stay_out_of_the_django_admin_for_other_roles(client, make_user, role, sees):
    alert_channel_create(name="Ops", kind="slack", target="https://hooks.slack.com/secret-path")
    client.force_login(make_user(role.lower(), role=role, is_staff=True))  # every role works in the admin
    response = client.get("/admin/alerts/alertchannel/")
    assert (response.status_code == 200 and "Ops" in response.content.decode()) is sees
