"""The unusual-day rule: yesterday's figures against the same weekday of the weeks before, from the real
roll-up, announced with what is known to have caused them."""

import pytest

from alerts.models import Alert
from alerts.services import alerts_check
from alerts.tests.conftest import opened
from analytics.tests.test_anomalies import click_spike_yesterday  # noqa: F401 (a fixture)

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
