"""A local Slack workspace speaking the Web API methods the bot-token adapter calls (api.slack.com/methods:
chat.postMessage, conversations.history, auth.test), for contract tests (pytest-httpserver) and for the
loopback receiver of the exactly-once tests.

It keeps every message it accepted and answers conversations.history from them: newest first, from
`oldest`, with their metadata when include_all_metadata is set, `limit` at a time behind an opaque
cursor, as Slack does. Every failure is HTTP 200 with {"ok": false, "error": code}, as Slack answers."""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from werkzeug import Response

BOT_TOKEN = "xoxb-1111-2222-testbottoken"
CHANNEL = "C0AICMO01"
DEFAULT_LIMIT = 100


@dataclass
class SlackWorkspace:
    token: str = BOT_TOKEN
    channels: tuple[str, ...] = (CHANNEL,)
    archived: tuple[str, ...] = ()
    messages: list[dict] = field(default_factory=list)  # oldest first
    history_calls: list[dict] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, method: str, path: str, query: str, headers, body: bytes) -> tuple[int, dict, dict] | None:
        """The answer to one request (status, extra headers, JSON body); None for a path it does not serve."""
        name = path.rsplit("/", 1)[-1]
        if name not in ("chat.postMessage", "conversations.history", "auth.test"):
            return None
        if headers.get("Authorization") != f"Bearer {self.token}":
            return 200, {}, {"ok": False, "error": "invalid_auth" if headers.get("Authorization") else "not_authed"}
        if name == "auth.test":
            return 200, {}, {"ok": True, "url": "https://aicmo-test.slack.com/", "team": "AICMO test",
                             "user": "aicmo_bot", "team_id": "T0AICMO", "user_id": "U0AICMOBOT"}
        if name == "chat.postMessage":
            return 200, {}, self.post(json.loads(body or b"{}"))
        return 200, {}, self.history(dict(parse_qsl(query)))

    def _channel_refusal(self, channel: str) -> dict | None:
        if channel in self.archived:
            return {"ok": False, "error": "is_archived"}
        if channel not in self.channels:
            return {"ok": False, "error": "channel_not_found"}
        return None

    def post(self, payload: dict) -> dict:
        channel = str(payload.get("channel") or "")
        refusal = self._channel_refusal(channel)
        if refusal:
            return refusal
        if not payload.get("text") and not payload.get("blocks"):
            return {"ok": False, "error": "no_text"}
        with self.lock:
            ts = max(time.time(), float(self.messages[-1]["ts"]) + 0.000001 if self.messages else 0.0)
            message = {"type": "message", "channel": channel, "ts": f"{ts:.6f}", "text": payload.get("text", ""),
                       "bot_id": "B0AICMO", **({"blocks": payload["blocks"]} if payload.get("blocks") else {}),
                       **({"metadata": payload["metadata"]} if payload.get("metadata") else {})}
            self.messages.append(message)
        shown = {key: value for key, value in message.items() if key not in ("channel", "metadata")}
        return {"ok": True, "channel": channel, "ts": message["ts"], "message": shown}

    def history(self, params: dict) -> dict:
        channel = params.get("channel", "")
        refusal = self._channel_refusal(channel)
        if refusal:
            return refusal
        with self.lock:
            self.history_calls.append(params)
            oldest = float(params.get("oldest") or 0)
            found = [m for m in reversed(self.messages) if m["channel"] == channel and float(m["ts"]) > oldest]
        start = int(base64.b64decode(params["cursor"]).decode().removeprefix("next_ts_offset:")) \
            if params.get("cursor") else 0
        limit = int(params.get("limit") or DEFAULT_LIMIT)
        page = found[start:start + limit]
        with_metadata = params.get("include_all_metadata") in ("true", "1")
        messages = [{key: value for key, value in m.items()
                     if key != "channel" and (with_metadata or key != "metadata")} for m in page]
        more = start + limit < len(found)
        cursor = base64.b64encode(f"next_ts_offset:{start + limit}".encode()).decode() if more else ""
        return {"ok": True, "messages": messages, "has_more": more, "pin_count": 0,
                "response_metadata": {"next_cursor": cursor}}

    def serve(self, httpserver, prefix: str = "/api") -> str:
        """Answer the workspace's methods on a pytest-httpserver; returns the base URL to give the adapter."""
        def handler(request):
            status, headers, body = self.answer(request.method, request.path, request.query_string.decode(),
                                                request.headers, request.get_data())
            return Response(json.dumps(body), status=status, headers=headers, content_type="application/json")

        for name in ("chat.postMessage", "conversations.history", "auth.test"):
            httpserver.expect_request(f"{prefix}/{name}").respond_with_handler(handler)
        return httpserver.url_for(prefix)

    def keys(self) -> list[str]:
        """The job keys of the messages, oldest first."""
        return [((m.get("metadata") or {}).get("event_payload") or {}).get("job_key", "") for m in self.messages]
