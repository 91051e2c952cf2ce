import pytest

from alerts.models import AlertChannel
from alerts.services import alerts_check

pytestmark = pytest.mark.django_db


def test_every_role_reads_alerts_and_the_query_count_does_not_grow(api_as, quiet_rules, django_assert_num_queries):
    analyst = api_as("Analyst")
    quiet_rules(media_disk_space=100)
    alerts_check()
    with django_assert_num_queries(4):
        response = analyst.get("/api/alerts/", {"status": "open"})
    [alert] = response.data["results"]
    assert alert["rule"] == "media_disk_space" and alert["advice"]
    rules = analyst.get("/api/alerts/rules/").data
    assert {rule["key"]: rule["default"] for rule in rules}["complaint_rate"] == 0.3


def test_only_admins_manage_channels_and_thresholds(api_as):
    marketer = api_as("Marketer")
    assert marketer.get("/api/alert-channels/").status_code == 403
    assert marketer.post("/api/alerts/rules/bounce_rate/", {"enabled": True, "threshold": 9},
                         format="json").status_code == 403

    admin = api_as("Admin")
    created = admin.post("/api/alert-channels/", {"name": "Ops", "kind": "discord",
                                                  "target": "https://discord.com/api/webhooks/1/x"}, format="json")
    assert created.status_code == 201, created.data
    assert AlertChannel.objects.get().repeat_minutes == 240
    changed = admin.post("/api/alerts/rules/bounce_rate/", {"enabled": False, "threshold": 4}, format="json")
    assert (changed.data["enabled"], changed.data["threshold"]) == (False, 4.0)
    assert admin.post("/api/alerts/rules/nope/", {"enabled": True, "threshold": 1}, format="json").status_code == 400
