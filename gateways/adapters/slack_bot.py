"""Slack through its Web API with a bot token (api.slack.com/methods): chat.postMessage posts, and each
message carries the job's idempotency key in its metadata, so after an unknown outcome
conversations.history says whether the message was made. auth.test is the probe.

Slack answers HTTP 200 for most failures, with {"ok": false, "error": "<code>"}; a rate limit is a 429
with Retry-After (or the code "ratelimited")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from gateways.adapters._http import HttpAdapterMixin, json_object
from gateways.adapters.slack import MAX_BLOCKS, MAX_TEXT
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import GatewayError, OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.http import retry_after_seconds

EVENT_TYPE = "aicmo_post"
HISTORY_PAGE = 200  # Slack advises at most 200 per page
HISTORY_PAGES = 25
# Slack stamps `ts` with its own clock; ours may run ahead of it by this much.
CLOCK_SKEW = timedelta(seconds=60)

TOKEN_UNUSABLE = {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}
CHANNEL_UNUSABLE = {"channel_not_found", "not_in_channel", "is_archived"}
MESSAGE_REFUSED = {"msg_too_long", "too_many_attachments", "no_text", "invalid_blocks", "invalid_metadata_format"}
RATE_LIMITED = {"ratelimited", "rate_limited"}


def slack_ts(moment: datetime) -> str:
    return f"{moment.timestamp():.6f}"


@register
class SlackBotPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "slack_bot"
    label = "Slack (bot token)"
    channel = "slack"
    parameters = ("channel_id",)
    secret_parameters = ("bot_token",)
    default_base_url = "https://slack.com/api"
    max_length = MAX_TEXT
    default_rate_limit = (1, 1.0)  # chat.postMessage: about one message a second per channel
    supports_lookup = True
    credentials_advice = ("Slack answers {status}: the bot token is wrong, revoked or its app was removed; "
                          "install the app again and update the token in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('bot_token')}",
                "Content-Type": "application/json; charset=utf-8"}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        code = str(json_object(response).get("error") or "")
        if response.status_code == 429:
            return self._refusal("ratelimited", retry_after=retry_after_seconds(response))
        known = code in TOKEN_UNUSABLE | CHANNEL_UNUSABLE | MESSAGE_REFUSED | RATE_LIMITED
        return self._refusal(code, status=response.status_code) if known else None

    def _refusal(self, code: str, *, status: int | None = None, retry_after: float | None = None) -> GatewayError:
        message = f"Slack answered {code}"
        if code in RATE_LIMITED:
            return RateLimited(message, provider=self.name, status=429, retry_after=retry_after,
                               advice="Slack asks us to slow down; lower this account's rate limit if it keeps "
                                      "happening.")
        if code in TOKEN_UNUSABLE:
            return ProviderUnavailable(message, provider=self.name, status=401,
                                       advice=self.credentials_advice.format(status=code))
        if code in CHANNEL_UNUSABLE:
            return ProviderUnavailable(
                message, provider=self.name, status=status,
                advice="Check the channel ID in Provider accounts, that the channel is not archived, and invite "
                       "the app's bot to it (/invite @your-app).")
        if code in MESSAGE_REFUSED:
            return ProviderRejected(message, provider=self.name, status=status,
                                    advice=f"Slack takes at most {MAX_TEXT} characters and {MAX_BLOCKS} blocks; "
                                           "shorten the post.")
        return ProviderUnavailable(message, provider=self.name, status=status,
                                   advice="Slack refused the call; it will be tried again.")

    def _answer(self, response: requests.Response) -> dict[str, Any]:
        body = json_object(response)
        if body.get("ok") is True:
            return body
        raise self._refusal(str(body.get("error") or "an answer without ok"), status=response.status_code)

    def publish(self, post: ChannelPost) -> PublishedPost:
        blocks = post.extra.get("blocks") or []
        if len(post.text) > MAX_TEXT or len(blocks) > MAX_BLOCKS:
            raise ProviderRejected(f"Slack takes at most {MAX_TEXT} characters and {MAX_BLOCKS} blocks",
                                   provider=self.name)
        payload: dict[str, Any] = {
            "channel": self.setting("channel_id"), "text": post.text, "unfurl_links": False,
            "metadata": {"event_type": EVENT_TYPE, "event_payload": {"job_key": post.idempotency_key}},
        }
        if blocks:
            payload["blocks"] = blocks
        try:
            response = self.http.request("POST", self.url("/chat.postMessage"), json=payload)
        except ProviderUnavailable as exc:
            if exc.status and exc.status >= 500 and not isinstance(exc, RateLimited):
                # A server error may come after the message was stored: the look-up says which.
                raise OutcomeUnknown(exc.message, provider=self.name, status=exc.status,
                                     advice="The message is looked for before it is sent again.") from None
            raise
        if "ok" not in json_object(response):
            raise OutcomeUnknown(f"Slack answered {response.status_code} with something other than the documented "
                                 "JSON", provider=self.name, status=response.status_code,
                                 advice="The message is looked for before it is sent again.")
        return self._published(self._answer(response))

    def _published(self, message: dict[str, Any]) -> PublishedPost:
        ts = str(message.get("ts") or "")
        return PublishedPost(status="published", provider=self.name, external_id=ts, raw=message)

    def lookup(self, post: ChannelPost) -> PublishedPost | None:
        """The channel's message whose metadata carries this job's key, made since the job's first request
        (less the clocks' skew); None once the history since then was read to its end without it.
        Without `sent_after` only the last hour is read."""
        since = (post.sent_after or datetime.now(UTC) - timedelta(hours=1)) - CLOCK_SKEW
        channel = self.setting("channel_id")
        params = {"channel": channel, "oldest": slack_ts(since), "include_all_metadata": "true",
                  "limit": HISTORY_PAGE}
        for _ in range(HISTORY_PAGES):
            page = self._answer(self.http.request("GET", self.url("/conversations.history"), params=params))
            for message in page.get("messages") or []:
                metadata = message.get("metadata") or {}
                if metadata.get("event_type") == EVENT_TYPE and \
                        (metadata.get("event_payload") or {}).get("job_key") == post.idempotency_key:
                    return self._published({**message, "channel": channel})
            cursor = (page.get("response_metadata") or {}).get("next_cursor")
            if not cursor:
                return None
            params["cursor"] = cursor
        # Not read to the end: "no such message" would send it again, so say we cannot tell.
        raise ProviderUnavailable(f"Slack: more than {HISTORY_PAGE * HISTORY_PAGES} messages in the channel since "
                                  f"{since:%H:%M:%S}; the post was not among them", provider=self.name)

    def probe(self):
        def auth_test() -> str:
            answer = self._answer(self.http.request("POST", self.url("/auth.test"), idempotent=True))
            return f"signed in as {answer.get('user', '?')} in {answer.get('team', '?')}"

        return self.timed_probe(auth_test)
