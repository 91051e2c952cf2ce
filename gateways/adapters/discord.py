"""Discord webhooks (PROVIDERS.md §6), with ?wait=true so Discord answers with the message and its id.

Limits are checked before sending so a too-long message is refused here with a clear reason instead of
Discord's generic 50035 "Invalid Form Body". Rate limits are not hard-coded (Discord asks so): its 429
answers carry Retry-After.
"""

from __future__ import annotations

from typing import Any

import requests

from gateways.adapters._http import HttpAdapterMixin, json_object
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import GatewayError, ProviderRejected, ProviderUnavailable

CONTENT_MAX = 2000
EMBEDS_MAX = 10
EMBEDS_TOTAL_MAX = 6000
EMBED_LIMITS = {"title": 256, "description": 4096}
FIELDS_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX, FOOTER_MAX = 25, 256, 1024, 2048
UNKNOWN_WEBHOOK = 10015
INVALID_FORM_BODY = 50035


def limit_problems(payload: dict[str, Any]) -> list[str]:
    problems = []
    if len(payload.get("content") or "") > CONTENT_MAX:
        problems.append(f"content is longer than {CONTENT_MAX} characters")
    embeds = payload.get("embeds") or []
    if len(embeds) > EMBEDS_MAX:
        problems.append(f"more than {EMBEDS_MAX} embeds")
    total = 0
    for n, embed in enumerate(embeds, 1):
        for key, limit in EMBED_LIMITS.items():
            total += len(embed.get(key) or "")
            if len(embed.get(key) or "") > limit:
                problems.append(f"embed {n}: {key} is longer than {limit} characters")
        fields = embed.get("fields") or []
        if len(fields) > FIELDS_MAX:
            problems.append(f"embed {n}: more than {FIELDS_MAX} fields")
        for field in fields:
            total += len(field.get("name") or "") + len(field.get("value") or "")
            if len(field.get("name") or "") > FIELD_NAME_MAX or len(field.get("value") or "") > FIELD_VALUE_MAX:
                problems.append(f"embed {n}: a field is longer than {FIELD_NAME_MAX}/{FIELD_VALUE_MAX} characters")
        footer = (embed.get("footer") or {}).get("text") or ""
        total += len(footer)
        if len(footer) > FOOTER_MAX:
            problems.append(f"embed {n}: footer is longer than {FOOTER_MAX} characters")
    if total > EMBEDS_TOTAL_MAX:
        problems.append(f"embeds hold more than {EMBEDS_TOTAL_MAX} characters in all")
    return problems


@register
class DiscordPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "discord"
    label = "Discord"
    channel = "discord"
    parameters = ("username",)
    secret_parameters = ("webhook_url",)
    max_length = CONTENT_MAX

    def http_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        body = json_object(response)
        code = body.get("code")
        if code == UNKNOWN_WEBHOOK:
            return ProviderUnavailable(
                f"Discord answered {response.status_code}: unknown webhook", status=response.status_code,
                advice="The Discord webhook was deleted; create a new one and update it in Provider accounts.")
        if code == INVALID_FORM_BODY:
            fields = ", ".join(sorted(body.get("errors") or {})) or "unknown fields"
            return ProviderRejected(f"Discord refused the message (50035 Invalid Form Body: {fields})",
                                    status=response.status_code, details={"errors": body.get("errors") or {}})
        return None

    def publish_endpoint(self, post: ChannelPost) -> str:
        return self.credential("webhook_url")

    def publish(self, post: ChannelPost) -> PublishedPost:
        payload = {
            "content": post.text,
            "username": self.settings.get("username") or "AICMO",
            "allowed_mentions": {"parse": []},  # a post must never ping @everyone by accident
        }
        if post.extra.get("embeds"):
            payload["embeds"] = post.extra["embeds"]
        problems = limit_problems(payload)
        if problems:
            raise ProviderRejected(f"Discord limits: {'; '.join(problems)}", provider=self.name)
        message = self.http.request_json("POST", self.credential("webhook_url"), params={"wait": "true"},
                                         json=payload)
        return PublishedPost(status="published", provider=self.name, external_id=str(message.get("id", "")),
                             raw=message)

    def probe(self):
        """GET on the webhook URL ("Get Webhook with Token") proves it exists without posting."""
        def webhook() -> str:
            found = self.http.request_json("GET", self.credential("webhook_url"))
            return f"webhook {found.get('name', '?')} posts to channel {found.get('channel_id', '?')}"

        return self.timed_probe(webhook)
