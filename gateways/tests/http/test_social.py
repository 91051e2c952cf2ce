"""X, Mastodon and Bluesky short posts.

Look-ups after an unknown outcome, replayed here as documented (PROVIDERS.md is read-only to us):

- X: `GET /2/users/me` -> `{"data": {"id", "username"}}`; then `GET /2/users/:id/tweets` with
  `max_results` (5-100), `start_time` (ISO 8601, second grain, inclusive), `exclude=retweets,replies`,
  `tweet.fields=created_at`, `pagination_token` -> `{"data": [{"id", "text", "created_at",
  "edit_history_tweet_ids"}], "meta": {"result_count", "newest_id", "oldest_id", "next_token"}}`,
  newest first; `data` is absent when nothing matches. The text comes back with `&amp;` for `&` and
  links shortened to t.co. Source: docs.x.com timelines; twapi-v2 `get_2_users_id_tweets.yaml`.
- Bluesky: `GET {pds}/xrpc/com.atproto.repo.listRecords?repo=<did>&collection=app.bsky.feed.post&limit=`
  (1-100, 50 by default) `&cursor=` -> `{"cursor": "...", "records": [{"uri", "cid", "value": <the
  record, with text and createdAt>}]}`, by record key newest first unless `reverse=true`. Does not
  require auth (we send the session's token anyway). A deterministic record key would make a retry
  safe, but the PDS accepts a chosen key for posts only within 10 minutes of its time stamp and
  answers a create of an existing key with a 500 (bluesky-social/atproto #3718, indigo #873), so the
  look-up matches text and createdAt instead. Source: bluesky-social/atproto lexicons.
"""

import time
from datetime import UTC, datetime, timedelta

import pytest

from gateways.adapters.bluesky import BlueskyPostingAdapter, grapheme_count, link_facets
from gateways.adapters.mastodon import MastodonPostingAdapter
from gateways.adapters.x import XPostingAdapter
from gateways.capabilities import ChannelPost
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited

from .conftest import API_KEY

BEARER = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}


def post(text="Hello from AICMO", **extra):
    return ChannelPost(idempotency_key="5b0b2f1e-job-9", text=text, extra=extra)


# ---- X --------------------------------------------------------------------------------------

@pytest.fixture
def x(make_adapter):
    return make_adapter(XPostingAdapter, credentials={"access_token": API_KEY})


def test_x_creates_a_post(x, httpserver):
    httpserver.expect_oneshot_request("/2/tweets", method="POST", headers=BEARER, json={
        "text": "Hello from AICMO", "media": {"media_ids": ["1146654567674912769"]},
    }).respond_with_json({"data": {"id": "1346889436626259968", "text": "Hello from AICMO"}}, status=201)

    published = x.publish(post(media_ids=["1146654567674912769"]))

    assert (published.external_id, published.url) == (
        "1346889436626259968", "https://x.com/i/web/status/1346889436626259968")


def test_x_problem_detail_is_the_message(x, httpserver):
    httpserver.expect_request("/2/tweets").respond_with_json(
        {"title": "Forbidden", "type": "about:blank", "detail": "You are not allowed to create a Tweet with duplicate "
                                                                 "content.", "status": 400}, status=400)
    with pytest.raises(ProviderRejected, match="duplicate content"):
        x.publish(post())


def test_x_rate_limit_reads_the_reset_epoch(x, httpserver):
    reset = int(time.time()) + 900
    httpserver.expect_request("/2/tweets").respond_with_json(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429}, status=429,
        headers={"x-rate-limit-reset": str(reset)})
    with pytest.raises(RateLimited) as caught:
        x.publish(post())
    assert 800 < caught.value.retry_after <= 900


def test_x_probe_reads_the_signed_in_user(x, httpserver):
    httpserver.expect_request("/2/users/me", headers=BEARER).respond_with_json(
        {"data": {"id": "1", "username": "aicmo"}})
    assert x.probe().detail == "signed in as @aicmo"


ME = {"data": {"id": "2244994945", "username": "aicmo"}}


def test_x_lookup_finds_the_post_in_the_timeline_since_the_attempt(x, httpserver):
    sent = datetime(2026, 3, 1, 12, 0, 30, tzinfo=UTC)
    httpserver.expect_ordered_request("/2/users/me", method="GET", headers=BEARER).respond_with_json(ME)
    httpserver.expect_ordered_request("/2/users/2244994945/tweets", method="GET", headers=BEARER, query_string={
        "max_results": "100", "start_time": "2026-03-01T11:59:30Z", "exclude": "retweets,replies",
        "tweet.fields": "created_at"}).respond_with_json({
            "data": [{"id": "9", "text": "Something else", "created_at": "2026-03-01T12:00:40.000Z",
                      "edit_history_tweet_ids": ["9"]}],
            "meta": {"result_count": 1, "newest_id": "9", "oldest_id": "9", "next_token": "7140dibdnow9c7btw4"}})
    httpserver.expect_ordered_request("/2/users/2244994945/tweets", query_string={
        "max_results": "100", "start_time": "2026-03-01T11:59:30Z", "exclude": "retweets,replies",
        "tweet.fields": "created_at", "pagination_token": "7140dibdnow9c7btw4"}).respond_with_json({
            "data": [{"id": "1346889436626259968", "text": "Q&amp;A today https://t.co/abc123",
                      "created_at": "2026-03-01T12:00:31.000Z", "edit_history_tweet_ids": ["1346889436626259968"]}],
            "meta": {"result_count": 1, "newest_id": "1346889436626259968", "oldest_id": "1346889436626259968"}})

    found = x.lookup(ChannelPost(idempotency_key="k", text="Q&A today https://example.com/launch", sent_after=sent))

    assert (found.external_id, found.url) == ("1346889436626259968", "https://x.com/i/web/status/1346889436626259968")


def test_x_lookup_without_the_post_says_none(x, httpserver):
    httpserver.expect_ordered_request("/2/users/me").respond_with_json(ME)
    httpserver.expect_ordered_request("/2/users/2244994945/tweets").respond_with_json({"meta": {"result_count": 0}})
    assert x.lookup(post()) is None


def test_x_lookup_that_cannot_read_every_page_cannot_tell(x, httpserver):
    httpserver.expect_request("/2/users/me").respond_with_json(ME)
    httpserver.expect_request("/2/users/2244994945/tweets").respond_with_json(
        {"data": [{"id": "1", "text": "other"}], "meta": {"result_count": 1, "next_token": "more"}})
    with pytest.raises(ProviderUnavailable, match="more than 500 posts"):
        x.lookup(post())


# ---- Mastodon -------------------------------------------------------------------------------

@pytest.fixture
def mastodon(make_adapter, httpserver):
    httpserver.expect_request("/api/v2/instance").respond_with_json(
        {"domain": "social.example", "configuration": {"statuses": {"max_characters": 1000}}})
    return make_adapter(MastodonPostingAdapter, credentials={"access_token": API_KEY},
                        settings={"visibility": "unlisted", "language": "en"})


def test_mastodon_posts_with_the_idempotency_key(mastodon, httpserver):
    httpserver.expect_oneshot_request("/api/v1/statuses", method="POST",
                                      headers={**BEARER, "Idempotency-Key": "5b0b2f1e-job-9"},
                                      json={"status": "Hello from AICMO", "visibility": "unlisted", "language": "en"}) \
        .respond_with_json({"id": "103704874086360371", "url": "https://social.example/@aicmo/103704874086360371"})

    published = mastodon.publish(post())

    assert (published.external_id, published.url) == (
        "103704874086360371", "https://social.example/@aicmo/103704874086360371")


def test_mastodon_sending_again_reuses_the_key_so_the_instance_returns_the_same_status(mastodon, httpserver):
    httpserver.expect_request("/api/v1/statuses", headers={"Idempotency-Key": "5b0b2f1e-job-9"}) \
        .respond_with_json({"id": "1", "url": "https://social.example/@aicmo/1"})
    first, second = mastodon.publish(post()), mastodon.publish(post())
    assert MastodonPostingAdapter.honours_idempotency_key  # what lets publishing retry an unknown outcome
    assert first.external_id == second.external_id
    assert [r.headers["Idempotency-Key"] for r, _ in httpserver.log if r.path == "/api/v1/statuses"] == \
        ["5b0b2f1e-job-9"] * 2


def test_mastodon_uses_the_instance_character_limit(mastodon, httpserver):
    with pytest.raises(ProviderRejected, match="1001 characters; this instance takes 1000"):
        mastodon.publish(post("x" * 1001))
    assert all(r.path == "/api/v2/instance" for r, _ in httpserver.log)


def test_mastodon_counts_a_link_as_23_characters(mastodon, httpserver):
    httpserver.expect_request("/api/v1/statuses").respond_with_json({"id": "2", "url": "u"})
    text = "x" * 970 + " https://example.com/" + "a" * 200
    assert mastodon.publish(post(text)).external_id == "2"


def test_mastodon_validation_failure_is_rejected(mastodon, httpserver):
    httpserver.expect_request("/api/v1/statuses").respond_with_json(
        {"error": "Validation failed: Text can't be blank"}, status=422)
    with pytest.raises(ProviderRejected, match="Text can't be blank"):
        mastodon.publish(post())


def test_mastodon_without_an_instance_address_is_unavailable(make_adapter):
    adapter = make_adapter(MastodonPostingAdapter, base_url="", credentials={"access_token": API_KEY})
    with pytest.raises(ProviderUnavailable, match="no base URL"):
        adapter.publish(post())


def test_mastodon_probe_verifies_credentials(make_adapter, httpserver):
    adapter = make_adapter(MastodonPostingAdapter, credentials={"access_token": API_KEY})
    httpserver.expect_request("/api/v1/accounts/verify_credentials", headers=BEARER).respond_with_json(
        {"id": "1", "username": "aicmo", "acct": "aicmo"})
    assert adapter.probe().detail == "signed in as @aicmo"


# ---- Bluesky --------------------------------------------------------------------------------

SESSION = {"accessJwt": "jwt-access-1", "refreshJwt": "jwt-refresh-1", "handle": "aicmo.bsky.social",
           "did": "did:plc:abc123"}
CREATED = {"uri": "at://did:plc:abc123/app.bsky.feed.post/3k4duaz5vfs2b", "cid": "bafyrei"}


@pytest.fixture
def bluesky(make_adapter):
    return make_adapter(BlueskyPostingAdapter, settings={"identifier": "aicmo.bsky.social"},
                        credentials={"app_password": API_KEY})


def session_created(httpserver):
    httpserver.expect_ordered_request("/xrpc/com.atproto.server.createSession", method="POST", json={
        "identifier": "aicmo.bsky.social", "password": API_KEY}).respond_with_json(SESSION)


def test_bluesky_creates_a_session_once_and_posts_records(bluesky, make_adapter, httpserver):
    session_created(httpserver)
    for _ in range(2):
        httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord", method="POST",
                                          headers={"Authorization": "Bearer jwt-access-1"}) \
            .respond_with_json(CREATED)

    published = bluesky.publish(post("Read https://example.com/launch now"))
    again = make_adapter(BlueskyPostingAdapter, settings={"identifier": "aicmo.bsky.social"},
                         credentials={"app_password": API_KEY}).publish(post())

    body = httpserver.log[1][0].get_json()
    assert body["repo"] == "did:plc:abc123"
    assert body["collection"] == "app.bsky.feed.post"
    assert body["record"]["$type"] == "app.bsky.feed.post"
    assert body["record"]["text"] == "Read https://example.com/launch now"
    assert body["record"]["createdAt"].endswith("Z")
    assert body["record"]["facets"] == [{"index": {"byteStart": 5, "byteEnd": 31}, "features": [
        {"$type": "app.bsky.richtext.facet#link", "uri": "https://example.com/launch"}]}]
    assert published.url == "https://bsky.app/profile/aicmo.bsky.social/post/3k4duaz5vfs2b"
    assert published.external_id == CREATED["uri"]
    assert again.external_id == CREATED["uri"]


def test_bluesky_refreshes_an_expired_token_and_posts_once(bluesky, httpserver):
    session_created(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord",
                                      headers={"Authorization": "Bearer jwt-access-1"}) \
        .respond_with_json({"error": "ExpiredToken", "message": "Token has expired"}, status=400)
    httpserver.expect_ordered_request("/xrpc/com.atproto.server.refreshSession",
                                      headers={"Authorization": "Bearer jwt-refresh-1"}) \
        .respond_with_json({**SESSION, "accessJwt": "jwt-access-2", "refreshJwt": "jwt-refresh-2"})
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.createRecord",
                                      headers={"Authorization": "Bearer jwt-access-2"}).respond_with_json(CREATED)

    assert bluesky.publish(post()).external_id == CREATED["uri"]


def test_bluesky_wrong_app_password_is_unavailable_with_advice(bluesky, httpserver):
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"}, status=401)
    with pytest.raises(ProviderUnavailable) as caught:
        bluesky.publish(post())
    assert caught.value.message == "Bluesky answered 401: Invalid identifier or password"
    assert "app password" in caught.value.advice


def test_bluesky_over_300_graphemes_is_refused_without_posting(bluesky, httpserver):
    with pytest.raises(ProviderRejected, match="301 characters"):
        bluesky.publish(post("é" * 301))
    assert httpserver.log == []


def test_bluesky_probe_creates_a_session(bluesky, httpserver):
    session_created(httpserver)
    assert bluesky.probe().detail == "signed in as aicmo.bsky.social"


def listed(text, created_at, rkey="3k4duaz5vfs2b"):
    return {"uri": f"at://did:plc:abc123/app.bsky.feed.post/{rkey}", "cid": "bafyrei" + rkey,
            "value": {"$type": "app.bsky.feed.post", "text": text, "createdAt": created_at}}


def test_bluesky_lookup_finds_the_post_made_since_the_attempt(bluesky, httpserver):
    sent = datetime(2026, 3, 1, 12, 0, 30, 123456, tzinfo=UTC)
    session_created(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.listRecords", method="GET",
                                      headers={"Authorization": "Bearer jwt-access-1"}, query_string={
            "repo": "did:plc:abc123", "collection": "app.bsky.feed.post", "limit": "100"}).respond_with_json({
                "cursor": "3k4dtzz", "records": [listed("Newer", "2026-03-01T12:01:00.000Z", "3k4dv")]})
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.listRecords", query_string={
        "repo": "did:plc:abc123", "collection": "app.bsky.feed.post", "limit": "100", "cursor": "3k4dtzz"}) \
        .respond_with_json({"cursor": "3k4dtaa", "records": [
            listed("Hello from AICMO", "2026-03-01T12:00:30.123Z"),
            listed("Hello from AICMO", "2026-03-01T11:00:00.000Z", "3k4cold")]})

    found = bluesky.lookup(ChannelPost(idempotency_key="k", text="Hello from AICMO", sent_after=sent))

    assert found.external_id == CREATED["uri"]
    assert found.url == "https://bsky.app/profile/aicmo.bsky.social/post/3k4duaz5vfs2b"


def test_bluesky_lookup_stops_at_posts_older_than_the_attempt(bluesky, httpserver):
    session_created(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.listRecords").respond_with_json({
        "cursor": "3k4cold", "records": [listed("Hello from AICMO", "2026-03-01T11:00:00.000Z")]})
    assert bluesky.lookup(ChannelPost(idempotency_key="k", text="Hello from AICMO",
                                      sent_after=datetime(2026, 3, 1, 12, tzinfo=UTC))) is None


def test_bluesky_lookup_refreshes_an_expired_token(bluesky, httpserver):
    session_created(httpserver)
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.listRecords",
                                      headers={"Authorization": "Bearer jwt-access-1"}) \
        .respond_with_json({"error": "ExpiredToken", "message": "Token has expired"}, status=400)
    httpserver.expect_ordered_request("/xrpc/com.atproto.server.refreshSession").respond_with_json(
        {**SESSION, "accessJwt": "jwt-access-2"})
    recent = (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    httpserver.expect_ordered_request("/xrpc/com.atproto.repo.listRecords",
                                      headers={"Authorization": "Bearer jwt-access-2"}) \
        .respond_with_json({"records": [listed("Hello from AICMO", recent)]})
    assert bluesky.lookup(post()).external_id == CREATED["uri"]


@pytest.mark.parametrize("text, count", [
    ("hello", 5), ("e\u0301", 1), ("👍🏽", 1), ("👨‍👩‍👧", 1), ("🇫🇷🇩🇪", 2), ("❤️", 1), ("a\r\nb", 3),
])
def test_graphemes_are_counted_as_people_see_them(text, count):
    assert grapheme_count(text) == count


def test_link_facets_use_utf8_byte_offsets():
    [facet] = link_facets("Café → https://example.com/a.")
    assert facet["index"] == {"byteStart": 10, "byteEnd": 31}
    assert facet["features"][0]["uri"] == "https://example.com/a"
