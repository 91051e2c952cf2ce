"""Bluesky posts (PROVIDERS.md §7): createSession with an app password, then createRecord; after an
unknown outcome, listRecords says whether the post was made.

createSession is tightly rate-limited, so a session is reused by every adapter for the same account
in this process and refreshed with its refresh token when the access token expires.
"""

from __future__ import annotations

import hashlib
import re
import threading
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from gateways.adapters._http import HttpAdapterMixin, json_object
from gateways.capabilities import ChannelPost, ChannelPostingAdapter, PublishedPost, register
from gateways.errors import GatewayError, ProviderRejected, ProviderUnavailable

MAX_GRAPHEMES = 300
LIST_PAGE = 100  # listRecords' largest limit
LIST_PAGES = 5
_URL = re.compile(r"https?://[^\s<>\"']+[^\s<>\"'.,;:!?)\]]")
_SESSIONS: dict[str, dict[str, str]] = {}
_SESSIONS_LOCK = threading.Lock()


class _TokenExpired(ProviderUnavailable):
    pass


def _extends_grapheme(char: str, previous: str) -> bool:
    code = ord(char)
    return (
        unicodedata.category(char).startswith("M")
        or char == "\u200d" or previous == "\u200d"
        or 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF  # variation selectors
        or 0x1F3FB <= code <= 0x1F3FF  # skin tones
        or 0xE0020 <= code <= 0xE007F  # emoji tag sequences (flags of regions)
        or (previous == "\r" and char == "\n")
    )


def grapheme_count(text: str) -> int:
    """User-perceived characters, close enough to Unicode's rules for a length check: combining marks,
    joiners, variation selectors, skin tones and regional-indicator pairs extend the previous one."""
    count, previous, regional_run = 0, "", 0
    for char in text:
        if 0x1F1E6 <= ord(char) <= 0x1F1FF:
            regional_run += 1
            if regional_run % 2 == 0:
                previous = char
                continue
        else:
            regional_run = 0
        if not (previous and _extends_grapheme(char, previous)):
            count += 1
        previous = char
    return count


def _created_at(value: dict[str, Any]) -> datetime | None:
    try:
        created = datetime.fromisoformat(str(value.get("createdAt", "")).replace("Z", "+00:00"))
    except ValueError:
        return None
    return created if created.tzinfo else created.replace(tzinfo=UTC)


def link_facets(text: str) -> list[dict[str, Any]]:
    """Bluesky only makes links clickable through facets, indexed in UTF-8 bytes."""
    facets = []
    for match in _URL.finditer(text):
        start = len(text[:match.start()].encode())
        facets.append({"index": {"byteStart": start, "byteEnd": start + len(match.group().encode())},
                       "features": [{"$type": "app.bsky.richtext.facet#link", "uri": match.group()}]})
    return facets


@register
class BlueskyPostingAdapter(HttpAdapterMixin, ChannelPostingAdapter):
    key = "bluesky"
    label = "Bluesky"
    channel = "bluesky"
    parameters = ("identifier",)
    secret_parameters = ("app_password",)
    default_base_url = "https://bsky.social"
    max_length = MAX_GRAPHEMES
    supports_lookup = True
    credentials_advice = ("Bluesky answers {status}: the handle or app password is wrong or revoked; "
                          "create an app password and update it in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Content-Type": "application/json"}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        if json_object(response).get("error") == "ExpiredToken":
            return _TokenExpired("Bluesky: the session expired", status=response.status_code)
        return None

    def _session_key(self) -> str:
        secret = hashlib.sha256(self.credential("app_password").encode()).hexdigest()
        return f"{self.base_url}|{self.setting('identifier')}|{secret}"

    def session(self, *, fresh: bool = False) -> dict[str, str]:
        key = self._session_key()
        with _SESSIONS_LOCK:
            if not fresh and key in _SESSIONS:
                return _SESSIONS[key]
        answer = self.http.request_json(
            "POST", self.url("/xrpc/com.atproto.server.createSession"), idempotent=True,
            json={"identifier": self.setting("identifier"), "password": self.credential("app_password")},
        )
        session = {k: str(answer.get(k, "")) for k in ("accessJwt", "refreshJwt", "did", "handle")}
        with _SESSIONS_LOCK:
            _SESSIONS[key] = session
        return session

    def _refreshed(self, session: dict[str, str]) -> dict[str, str]:
        try:
            answer = self.http.request_json(
                "POST", self.url("/xrpc/com.atproto.server.refreshSession"), idempotent=True,
                headers={"Authorization": f"Bearer {session['refreshJwt']}"})
        except _TokenExpired:
            return self.session(fresh=True)
        refreshed = {**session, **{k: str(answer[k]) for k in ("accessJwt", "refreshJwt") if answer.get(k)}}
        with _SESSIONS_LOCK:
            _SESSIONS[self._session_key()] = refreshed
        return refreshed

    def publish(self, post: ChannelPost) -> PublishedPost:
        length = grapheme_count(post.text)
        if length > MAX_GRAPHEMES:
            raise ProviderRejected(f"Bluesky: the post is {length} characters; it takes {MAX_GRAPHEMES}",
                                   provider=self.name)
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": post.text,
                                  "createdAt": datetime.now(UTC).isoformat(timespec="milliseconds")
                                  .replace("+00:00", "Z")}
        facets = link_facets(post.text)
        if facets:
            record["facets"] = facets
        session, created = self._signed_in(lambda session: self._create(session, record))
        return self._published(session, created)

    def _published(self, session: dict[str, str], record: dict[str, Any]) -> PublishedPost:
        uri = str(record.get("uri", ""))
        return PublishedPost(status="published", provider=self.name, external_id=uri,
                             url=f"https://bsky.app/profile/{session['handle']}/post/{uri.rsplit('/', 1)[-1]}",
                             raw=record)

    def _signed_in(self, call: Callable[[dict[str, str]], Any]) -> tuple[dict[str, str], Any]:
        session = self.session()
        try:
            return session, call(session)
        except _TokenExpired:
            # An expired token refuses the call before anything is written, so sending again is safe.
            session = self._refreshed(session)
            return session, call(session)

    def _create(self, session: dict[str, str], record: dict[str, Any]) -> dict[str, Any]:
        return self.http.request_json(
            "POST", self.url("/xrpc/com.atproto.repo.createRecord"),
            headers={"Authorization": f"Bearer {session['accessJwt']}"},
            json={"repo": session["did"], "collection": "app.bsky.feed.post", "record": record},
        )

    def lookup(self, post: ChannelPost) -> PublishedPost | None:
        """The account's post with this text (or an earlier attempt's) whose createdAt (which this
        adapter writes, with our own clock) is not before the job's first request; None when the repo
        has none.

        com.atproto.repo.listRecords lists the account's posts newest first (by record key, a time
        stamp); reading stops at the first page older than the request."""
        since = post.sent_after or datetime.now(UTC) - timedelta(hours=1)
        # createdAt keeps milliseconds: compare at that grain.
        since = since.replace(microsecond=since.microsecond // 1000 * 1000)
        texts = {post.text, *post.earlier_texts}
        session, found = self._signed_in(lambda session: self._find(session, texts, since))
        return None if found is None else self._published(session, found)

    def _find(self, session: dict[str, str], texts: set[str], since: datetime) -> dict[str, Any] | None:
        params = {"repo": session["did"], "collection": "app.bsky.feed.post", "limit": LIST_PAGE}
        for _ in range(LIST_PAGES):
            page = self.http.request_json("GET", self.url("/xrpc/com.atproto.repo.listRecords"), params=params,
                                          headers={"Authorization": f"Bearer {session['accessJwt']}"})
            records = page.get("records") or []
            older = 0
            for record in records:
                value = record.get("value") or {}
                created = _created_at(value)
                if created is None or created < since:
                    older += 1
                elif value.get("text") in texts:
                    return record
            if not page.get("cursor") or not records or older == len(records):
                return None
            params["cursor"] = page["cursor"]
        # Not read to the end: "no such post" would send it again, so say we cannot tell.
        raise ProviderUnavailable(f"Bluesky: more than {LIST_PAGE * LIST_PAGES} posts since {since:%H:%M:%S}; "
                                  "the post was not among them", provider=self.name)

    def probe(self):
        def create_session() -> str:
            return f"signed in as {self.session(fresh=True)['handle']}"

        return self.timed_probe(create_session)
