"""Slack incoming webhooks (PROVIDERS.md §5). The webhook URL is the credential: it never appears in
messages or logs, and Slack answers in plain-text codes rather than JSON."""

from __future__ import annotations

import requests

from gateways.adapters._http import HttpAdapterMixin, not_probed
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import GatewayError, ProviderRejected, ProviderUnavailable

MAX_TEXT = 40_000  # Slack truncates past this
MAX_BLOCKS = 50

# Codes that mean the webhook itself is gone or revoked: the account is wrong, not the message.
WEBHOOK_GONE = {"invalid_token", "action_prohibited", "channel_not_found", "no_service", "team_disabled",
                "channel_is_archived"}


@register
class SlackPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "slack"
    probeable = False
    label = "Slack"
    channel = "slack"
    secret_parameters = ("webhook_url",)
    max_length = MAX_TEXT
    default_rate_limit = (1, 1.0)  # about one message a second per webhook
    limits = ("After a crash, a post may need checking by hand: an incoming webhook gives no way to ask Slack "
              "whether a message was made, so a post whose request may have started cannot be told apart "
              "from one that was sent. Prefer Slack (bot token), which finds its own messages again.")

    def http_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        code = response.text.strip()
        if code in WEBHOOK_GONE:
            return ProviderUnavailable(
                f"Slack answered {response.status_code}: {code}", status=response.status_code,
                advice="The Slack webhook was revoked or its channel removed or archived; create a new incoming "
                       "webhook and update it in Provider accounts.")
        return None

    def publish_endpoint(self, post: ChannelPost) -> str:
        return self.credential("webhook_url")

    def publish(self, post: ChannelPost) -> PublishedPost:
        blocks = post.extra.get("blocks") or []
        if len(post.text) > MAX_TEXT or len(blocks) > MAX_BLOCKS:
            raise ProviderRejected(f"Slack takes at most {MAX_TEXT} characters and {MAX_BLOCKS} blocks",
                                   provider=self.name)
        payload = {"text": post.text, "unfurl_links": False}
        if blocks:
            payload["blocks"] = blocks
        response = self.http.request("POST", self.credential("webhook_url"), json=payload)
        return PublishedPost(status="published", provider=self.name, raw={"answer": response.text.strip()})

    def probe(self):
        return not_probed("a Slack webhook cannot be checked without posting to the channel")
