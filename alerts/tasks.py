"""django-q2 entry point: the every-minute check."""

from dataclasses import asdict

from alerts.services import alerts_check


def check_alerts() -> dict:
    return asdict(alerts_check())
