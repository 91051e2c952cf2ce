"""Readiness of the parts AICMO needs: the database and the background workers' broker."""

import time

from django.db import connection
from django_q.brokers import get_broker


def _timed(check) -> dict:
    started = time.perf_counter()
    try:
        detail = check()
        ok = True
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready", reported by type
        ok, detail = False, f"{type(exc).__name__}: {exc}"[:300]
    return {"ok": ok, "detail": detail, "ms": round((time.perf_counter() - started) * 1000, 1)}


def _database() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return connection.vendor


def _broker() -> str:
    broker = get_broker()
    if not broker.ping():
        raise ConnectionError("broker did not answer")
    return type(broker).__name__


def system_health() -> dict:
    checks = {"database": _timed(_database), "broker": _timed(_broker)}
    return {"ok": all(c["ok"] for c in checks.values()), "checks": checks}
