"""The unusual-day and unusual-hour rules: yesterday's figures (and the last hours') against the same weekday
(and hour) of the weeks before, from the real roll-up and events, announced with what caused them."""

import pytest

from alerts.models import Alert
from alerts.services import alerts_check
from alerts.tests.conftest import opened
from analytics.tests.test_anomalies import click_spike_last_hour, click_spike_yesterday  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def test_the_alert_rule_opens_on_yesterdays_spike_with_its_likely_cause(quiet_rules, slack,
                                                                         click_spike_yesterday):  # noqa: F811
    quiet_rules("metric_anomaly")
    alerts_check()
    [alert] = Alert.objects.filter(rule="metric_anomaly", status="open")
    assert alert.subject == f"clicks {click_spike_yesterday.isoformat()}"
    assert "a spike" in alert.title and "Likely cause: Email send of “Spring sale” was paused" in alert.advice
    alerts_check()
    assert len(opened(slack())) == 1


def test_the_hourly_rule_opens_on_the_last_hours_spike(quiet_rules, slack, click_spike_last_hour):  # noqa: F811
    quiet_rules("metric_anomaly_hourly")
    alerts_check()
    [alert] = Alert.objects.filter(rule="metric_anomaly_hourly", status="open")
    assert alert.subject == f"clicks {click_spike_last_hour:%Y-%m-%dT%H:%M}"
    assert "a spike at" in alert.title and "unusual hours" in alert.advice
    alerts_check()
    assert len(opened(slack())) == 1
