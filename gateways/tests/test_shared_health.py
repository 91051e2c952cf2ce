"""Health lives in the database: a second, real process sees the first one's failures and breaker."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.db import connection

from gateways import services
from gateways.capabilities import PersonQuery
from gateways.errors import NoProviderAvailable, ProviderUnavailable
from gateways.models import BreakerState, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

ROOT = Path(__file__).resolve().parents[2]

# Runs in the other process: three failures of the primary (its breaker threshold there is 3).
FAIL_PRIMARY_THREE_TIMES = textwrap.dedent("""
    from gateways import services
    from gateways.capabilities import PersonQuery
    from gateways.errors import ProviderUnavailable
    from gateways.tests import fakes
    fakes.script("primary", *[ProviderUnavailable("answered 503 in the other process", status=503)] * 3)
    for _ in range(3):
        print(services.enrich_people([PersonQuery(ref="1")]).provider)
""")


def _other_process(*args: str, code: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "aicmo_site.settings.test",
           "AICMO_TEST_WORKER_DATABASE": connection.settings_dict["NAME"], "GATEWAYS_BREAKER_THRESHOLD": "3"}
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    if code:
        command += ["-c", code]
    return subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


@pytest.mark.django_db(transaction=True)
def test_health_recorded_in_one_process_is_seen_by_another_both_ways(settings, fake_providers):
    settings.GATEWAYS_BREAKER_THRESHOLD = 3
    primary = ProviderAccountFactory(name="primary", priority=1)
    ProviderAccountFactory(name="secondary", priority=2)

    child = _other_process("shell", "--verbosity", "0", code=FAIL_PRIMARY_THREE_TIMES)
    assert child.returncode == 0, child.stderr
    assert child.stdout.split() == ["secondary"] * 3

    health = ProviderHealth.objects.get(pk=primary.pk)
    assert health.breaker_state == BreakerState.OPEN
    assert "answered 503 in the other process" in health.last_error
    fake_providers.script("secondary", ProviderUnavailable("refused", status=401))
    with pytest.raises(NoProviderAvailable):
        services.enrich_people([PersonQuery(ref="1")])
    assert [call[0] for call in fake_providers.CALLS] == ["secondary"], "this process skips the open primary"

    report = _other_process("self_check", "--status", "--json")

    assert report.returncode == 1, "a capability in use without a healthy provider fails the check"
    document = json.loads(report.stdout)
    enrichment = next(c for c in document["capabilities"] if c["capability"] == "lead_enrichment")
    shown = {p["name"]: p for p in enrichment["providers"]}
    assert shown["primary"]["status"] == "down"
    assert shown["secondary"]["consecutive_failures"] == 1
    assert shown["secondary"]["advice"] == "the API key is wrong or revoked; update it in Provider accounts"
