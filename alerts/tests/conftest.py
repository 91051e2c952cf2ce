import json

import pytest
from django.core.cache import cache

from alerts.services import alert_channel_create


@pytest.fixture(autouse=True)
def quiet_rules(settings):
    """Each test watches its own rule: the others are switched off unless the test turns them on, and the
    rate rules count small samples."""
    from alerts.models import AlertRule
    from alerts.rules import RULES

    settings.ALERTS_MIN_SAMPLE = 2
    settings.ALERTS_MIN_PROVIDER_CALLS = 2
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    settings.PUBLISHING_DISPATCH_THREADS = 1
    cache.clear()

    def only(*keys, **thresholds):
        for key, rule in RULES.items():
            AlertRule.objects.update_or_create(key=key, defaults={
                "enabled": key in keys or key in thresholds, "threshold": thresholds.get(key, rule.default)})

    return only


@pytest.fixture
def slack(httpserver):
    """A Slack-style receiver on loopback; `notices()` is the texts it received, in order."""
    httpserver.expect_request("/slack", method="POST").respond_with_data("ok")
    channel = alert_channel_create(name="Ops Slack", kind="slack", target=httpserver.url_for("/slack"))

    def notices() -> list[str]:
        return [json.loads(request.get_data())["text"] for request, _ in httpserver.log if request.path == "/slack"]

    notices.channel = channel
    return notices


def opened(texts) -> list[str]:
    return [text for text in texts if text.startswith("🔴")]


def resolved(texts) -> list[str]:
    return [text for text in texts if text.startswith("✅")]
