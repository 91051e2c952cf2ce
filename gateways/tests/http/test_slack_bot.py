"""Slack with a bot token, against a local workspace speaking the Web API (gateways/testing/slack.py):
chat.postMessage with the job's key in the message metadata, the look-up through conversations.history,
auth.test as the probe, and Slack's way of failing (HTTP 200 with ok: false)."""

import logging
import threading
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from gateways.adapters.slack_bot import SlackBotPostingAdapter
from gateways.capabilities import ChannelPost
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.testing.slack import BOT_TOKEN, CHANNEL, SlackWorkspace


@pytest.fixture
def workspace():
    return SlackWorkspace()


@pytest.fixture
def slack(make_adapter, httpserver, workspace):
    return make_adapter(SlackBotPostingAdapter, base_url=workspace.serve(httpserver),
                        settings={"channel_id": CHANNEL}, credentials={"bot_token": BOT_TOKEN})


@pytest.fixture
def refusing(make_adapter, httpserver):
    """The adapter in front of a server that answers every call with what the test registers."""
    return make_adapter(SlackBotPostingAdapter, base_url=httpserver.url_for("/api"),
                        settings={"channel_id": CHANNEL}, credentials={"bot_token": BOT_TOKEN}, timeout=0.5)


def post(key="job-key-1", text="Launch day: the new planner is out", sent_after=None, **extra):
    return ChannelPost(idempotency_key=key, text=text, sent_after=sent_after, extra=extra)


def test_posts_text_blocks_and_the_job_key_in_the_metadata(slack, httpserver, workspace):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Launch day*"}}]

    published = slack.publish(post(blocks=blocks))

    request = httpserver.log[0][0]
    assert request.headers["Authorization"] == f"Bearer {BOT_TOKEN}"
    assert request.get_json() == {
        "channel": CHANNEL, "text": "Launch day: the new planner is out", "unfurl_links": False, "blocks": blocks,
        "metadata": {"event_type": "aicmo_post", "event_payload": {"job_key": "job-key-1"}}}
    assert published.status == "published"
    assert published.external_id == workspace.messages[0]["ts"]
    assert published.raw["channel"] == CHANNEL


def test_lookup_finds_the_message_carrying_the_job_key_since_the_first_attempt(slack, workspace):
    sent = datetime.now(UTC)
    slack.publish(post("other-job"))
    made = slack.publish(post("job-key-1"))
    slack.publish(post("later-job"))

    found = slack.lookup(ChannelPost(idempotency_key="job-key-1", text="edited since", sent_after=sent))

    assert found.external_id == made.external_id
    call = workspace.history_calls[0]
    assert call["channel"] == CHANNEL and call["include_all_metadata"] == "true"
    assert float(call["oldest"]) == pytest.approx((sent - timedelta(seconds=60)).timestamp(), abs=1e-5)


def test_lookup_reads_every_page_of_the_history_before_saying_none(slack, workspace):
    for n in range(450):
        workspace.post({"channel": CHANNEL, "text": f"older {n}",
                        "metadata": {"event_type": "aicmo_post", "event_payload": {"job_key": f"k{n}"}}})

    assert slack.lookup(post("k0")) is not None  # the oldest, on the third page
    assert slack.lookup(post("never-sent")) is None
    assert [bool(call.get("cursor")) for call in workspace.history_calls] == [False, True, True] * 2


def test_lookup_that_cannot_read_to_the_end_cannot_tell(make_adapter, httpserver, workspace, monkeypatch):
    monkeypatch.setattr("gateways.adapters.slack_bot.HISTORY_PAGES", 2)
    slack = make_adapter(SlackBotPostingAdapter, base_url=workspace.serve(httpserver),
                         settings={"channel_id": CHANNEL}, credentials={"bot_token": BOT_TOKEN})
    for n in range(401):
        workspace.post({"channel": CHANNEL, "text": f"older {n}"})

    with pytest.raises(ProviderUnavailable, match="more than 400 messages"):
        slack.lookup(post("never-sent"))


def test_lookup_refused_by_a_rate_limit_cannot_tell(refusing, httpserver):
    httpserver.expect_request("/api/conversations.history").respond_with_json(
        {"ok": False, "error": "ratelimited"}, status=429, headers={"Retry-After": "30"})

    with pytest.raises(RateLimited) as caught:
        refusing.lookup(post())
    assert caught.value.retry_after == 30


@pytest.mark.parametrize("code", ["invalid_auth", "not_authed", "token_revoked", "account_inactive"])
def test_a_token_slack_refuses_makes_the_account_unusable(refusing, httpserver, code):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": False, "error": code})

    with pytest.raises(ProviderUnavailable) as caught:
        refusing.publish(post())
    assert (type(caught.value), caught.value.status, caught.value.message) == (
        ProviderUnavailable, 401, f"Slack answered {code}")
    assert "bot token is wrong" in caught.value.advice


def test_a_wrong_token_on_the_live_workspace_is_invalid_auth(make_adapter, httpserver, workspace):
    slack = make_adapter(SlackBotPostingAdapter, base_url=workspace.serve(httpserver),
                         settings={"channel_id": CHANNEL}, credentials={"bot_token": "xoxb-revoked-token"})

    with pytest.raises(ProviderUnavailable, match="invalid_auth"):
        slack.publish(post())
    assert workspace.messages == []


@pytest.mark.parametrize("code", ["channel_not_found", "not_in_channel", "is_archived"])
def test_a_channel_the_bot_cannot_post_to_is_a_misconfigured_account(refusing, httpserver, code):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": False, "error": code})

    with pytest.raises(ProviderUnavailable) as caught:
        refusing.publish(post())
    assert type(caught.value) is ProviderUnavailable
    assert "invite the app's bot" in caught.value.advice


@pytest.mark.parametrize("code", ["msg_too_long", "too_many_attachments"])
def test_a_message_slack_refuses_is_rejected(refusing, httpserver, code):
    httpserver.expect_request("/api/chat.postMessage").respond_with_json({"ok": False, "error": code})

    with pytest.raises(ProviderRejected, match=code):
        refusing.publish(post())


def test_a_too_long_text_is_refused_without_a_call(slack, httpserver):
    with pytest.raises(ProviderRejected, match="40000 characters"):
        slack.publish(post(text="x" * 40_001))
    assert httpserver.log == []


@pytest.mark.parametrize("answer", [
    lambda: Response('{"ok": false, "error": "ratelimited"}', status=429, headers={"Retry-After": "7"}),
    lambda: Response('{"ok": false, "error": "ratelimited"}', status=200, content_type="application/json"),
])
def test_a_rate_limit_is_a_wait_not_an_attempt(refusing, httpserver, answer):
    httpserver.expect_request("/api/chat.postMessage").respond_with_handler(lambda request: answer())

    with pytest.raises(RateLimited) as caught:
        refusing.publish(post())
    assert caught.value.retry_after in (7, None)


def test_a_server_error_after_the_post_may_have_made_it(refusing, httpserver):
    httpserver.expect_request("/api/chat.postMessage").respond_with_data("upstream error", status=503)

    with pytest.raises(OutcomeUnknown):
        refusing.publish(post())


@pytest.fixture
def threaded_server():
    """A server that answers a look-up while a post's answer is still pending, as Slack does."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()


def test_a_timed_out_post_is_an_unknown_outcome_the_lookup_settles(make_adapter, threaded_server, workspace):
    made, release = [], threading.Event()

    def slow(request):
        made.append(workspace.post(request.get_json()))  # stored at once, answered after the client gave up
        release.wait(5)
        return Response("{}", content_type="application/json")

    threaded_server.expect_request("/api/chat.postMessage").respond_with_handler(slow)
    slack = make_adapter(SlackBotPostingAdapter, base_url=workspace.serve(threaded_server), timeout=0.4,
                         settings={"channel_id": CHANNEL}, credentials={"bot_token": BOT_TOKEN})
    sent = datetime.now(UTC)

    with pytest.raises(OutcomeUnknown):
        slack.publish(post())
    found = slack.lookup(post(sent_after=sent))
    release.set()

    assert found.external_id == made[0]["ts"]


def test_probe_is_auth_test(slack, httpserver):
    result = slack.probe()

    assert result.ok and result.detail == "signed in as aicmo_bot in AICMO test"
    assert httpserver.log[0][0].path == "/api/auth.test"


def test_the_bot_token_never_reaches_a_message_or_the_log(refusing, httpserver, caplog):
    httpserver.expect_request("/api/chat.postMessage").respond_with_data(f"bad token {BOT_TOKEN}", status=500)

    with caplog.at_level(logging.DEBUG), pytest.raises(OutcomeUnknown) as caught:
        refusing.publish(post())
    assert BOT_TOKEN not in str(caught.value) and BOT_TOKEN not in caplog.text
