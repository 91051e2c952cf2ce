"""Every outbound HTTP call of the application goes through gateways/http.py, where the timeouts,
the address guard and the error mapping live."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
APPS = ("aicmo_site", "gateways", "crm", "media", "publishing", "analytics")
DIRECT_CALL = re.compile(r"\b(requests|urllib\.request|httpx|urllib3)\.(get|post|put|patch|delete|head|request|"
                         r"Session|urlopen|PoolManager|Client)\(")


def test_no_application_module_calls_http_directly():
    offenders = []
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            relative = path.relative_to(ROOT)
            if "tests" in relative.parts or "testing" in relative.parts or relative == Path("gateways/http.py"):
                continue
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if DIRECT_CALL.search(line):
                    offenders.append(f"{relative}:{number}: {line.strip()}")
    assert offenders == []
