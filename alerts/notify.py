"""Telling people: a Slack or Discord webhook through gateways' SSRF-guarded client, or email to a list of
addresses through the real sending provider (the same failover chain as campaigns)."""

from __future__ import annotations

from django.conf import settings
from django.urls import reverse

from alerts.models import Alert, AlertChannel, ChannelKind, NoticeKind
from gateways.capabilities import OutgoingEmail
from gateways.errors import GatewayError
from gateways.http import ProviderHttp
from gateways.services.email import open_email_session

TIMEOUT_SECONDS = 10.0
ICONS = {NoticeKind.OPENED: "🔴", NoticeKind.REMINDER: "🟠", NoticeKind.RESOLVED: "✅"}


class NoticeFailed(Exception):
    pass


def notice_text(alert: Alert, kind: str) -> tuple[str, str]:
    """Subject and body: what is wrong, what to do, where to look."""
    page = settings.PUBLIC_BASE_URL + reverse("alerts:alert-list")
    if kind == NoticeKind.RESOLVED:
        subject = f"Resolved: {alert.title}"
        body = f"{ICONS[kind]} AICMO alert resolved: {alert.title}\nOpen from {alert.opened_at:%Y-%m-%d %H:%M} " \
               f"to {alert.resolved_at:%Y-%m-%d %H:%M} UTC.\n{page}"
    else:
        since = f"Still open since {alert.opened_at:%Y-%m-%d %H:%M} UTC"
        prefix = "AICMO alert" if kind == NoticeKind.OPENED else since
        subject = alert.title
        body = f"{ICONS[kind]} {prefix}: {alert.title}\nWhat to do: {alert.advice}\n{page}"
    return subject, body


def notice_send(channel: AlertChannel, alert: Alert, kind: str) -> None:
    subject, body = notice_text(alert, kind)
    try:
        if channel.kind == ChannelKind.EMAIL:
            with open_email_session() as session:
                for address in [a.strip() for a in channel.target.replace(";", ",").split(",") if a.strip()]:
                    session.send(OutgoingEmail(to=address, subject=f"[AICMO] {subject}", text=body,
                                               from_email=settings.DEFAULT_FROM_EMAIL))
            return
        payload = {"text": body} if channel.kind == ChannelKind.SLACK else {"content": body[:2000]}
        # The webhook URL is the channel's secret: it never reaches an error message.
        http = ProviderHttp(provider=channel.name, label=channel.get_kind_display(), timeout=TIMEOUT_SECONDS,
                            secrets=[channel.target])
        try:
            http.request("POST", channel.target, json=payload)
        finally:
            http.close()
    except GatewayError as exc:
        raise NoticeFailed(exc.message) from None
