"""Channels backed by real gateways adapters pointed at a local contract server (pytest-httpserver)."""

from gateways.capabilities import Capability
from gateways.services import account_create
from gateways.testing.slack import BOT_TOKEN, CHANNEL
from publishing.tests.factories import ChannelFactory


def channel_on(httpserver, kind: str, *, path: str = "", timeout: float = 5.0, **account):
    """A channel of `kind` whose provider account posts to `httpserver` as the real service would."""
    url = httpserver.url_for(path or f"/{kind}")
    base = {
        "slack": {"credentials": {"webhook_url": url}},
        "discord": {"credentials": {"webhook_url": url}},
        "webhook": {"settings": {"url": url},
                    "credentials": {"signing_secret": "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="}},
        "devto": {"base_url": httpserver.url_for("").rstrip("/"), "credentials": {"api_key": "devto-key"}},
        "mastodon": {"base_url": httpserver.url_for("").rstrip("/"), "credentials": {"access_token": "t"}},
        "x": {"base_url": httpserver.url_for("").rstrip("/"), "credentials": {"access_token": "t"}},
        "slack_bot": {"base_url": httpserver.url_for("/api"), "settings": {"channel_id": CHANNEL},
                      "credentials": {"bot_token": BOT_TOKEN}},
        "bluesky": {"base_url": httpserver.url_for("").rstrip("/"), "settings": {"identifier": "aicmo.bsky.social"},
                    "credentials": {"app_password": "app-pass"}},
    }[kind]
    provider = account_create(capability=Capability.CHANNEL_POSTING, adapter=kind, name=f"{kind} {path or 'main'}",
                              timeout_seconds=timeout, rate_limit_count=1000, rate_limit_seconds=1, **base,
                              **account)
    return ChannelFactory(kind=provider.channel or kind, provider_account=provider, name=f"{kind} channel")
