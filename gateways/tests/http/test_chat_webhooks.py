"""Slack and Discord incoming webhooks: the URL is the secret."""

import pytest

from gateways.adapters.discord import DiscordPostingAdapter
from gateways.adapters.slack import SlackPostingAdapter
from gateways.capabilities import ChannelPost
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited

SLACK_PATH = "/services/T0001/B0002/XXXXsecretXXXX"
DISCORD_PATH = "/api/webhooks/123/tok-secret-discord"


@pytest.fixture
def slack(make_adapter, httpserver):
    return make_adapter(SlackPostingAdapter, base_url="", credentials={"webhook_url": httpserver.url_for(SLACK_PATH)})


@pytest.fixture
def discord(make_adapter, httpserver):
    return make_adapter(DiscordPostingAdapter, base_url="",
                        credentials={"webhook_url": httpserver.url_for(DISCORD_PATH)})


def post(text="New lead: Jane (Acme)", **extra):
    return ChannelPost(idempotency_key="job-1", text=text, extra=extra)


def test_slack_posts_text_and_blocks_and_reads_ok(slack, httpserver):
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*New lead* Jane"}}]
    httpserver.expect_oneshot_request(SLACK_PATH, method="POST", headers={"Content-Type": "application/json"}, json={
        "text": "New lead: Jane (Acme)", "unfurl_links": False, "blocks": blocks,
    }).respond_with_data("ok", content_type="text/plain")

    published = slack.publish(post(blocks=blocks))

    assert (published.status, published.raw) == ("published", {"answer": "ok"})


@pytest.mark.parametrize("status, code", [(400, "invalid_payload"), (400, "no_text")])
def test_slack_refuses_a_bad_message(slack, httpserver, status, code):
    httpserver.expect_request(SLACK_PATH).respond_with_data(code, status=status)
    with pytest.raises(ProviderRejected) as caught:
        slack.publish(post())
    assert caught.value.message == f"Slack answered {status}: {code}"


@pytest.mark.parametrize("status, code", [(403, "invalid_token"), (404, "channel_not_found"), (404, "no_service"),
                                          (410, "channel_is_archived")])
def test_slack_codes_about_the_webhook_make_it_unavailable(slack, httpserver, status, code):
    httpserver.expect_request(SLACK_PATH).respond_with_data(code, status=status)
    with pytest.raises(ProviderUnavailable) as caught:
        slack.publish(post())
    assert caught.value.message == f"Slack answered {status}: {code}"
    assert "create a new incoming webhook" in caught.value.advice


def test_slack_rate_limit(slack, httpserver):
    httpserver.expect_request(SLACK_PATH).respond_with_data("rate_limited", status=429, headers={"Retry-After": "2"})
    with pytest.raises(RateLimited) as caught:
        slack.publish(post())
    assert caught.value.retry_after == 2


def test_slack_too_long_text_is_refused_without_posting(slack, httpserver):
    with pytest.raises(ProviderRejected, match="40000 characters"):
        slack.publish(post("x" * 40_001))
    assert httpserver.log == []


def test_slack_is_not_probed_by_posting(slack, httpserver):
    assert slack.probe().detail.startswith("not probed")
    assert httpserver.log == []


def test_discord_probe_reads_the_webhook_without_posting(discord, httpserver):
    httpserver.expect_oneshot_request(DISCORD_PATH, method="GET").respond_with_json(
        {"id": "123", "type": 1, "name": "AICMO", "channel_id": "42", "token": "tok-secret-discord"})
    assert discord.probe().detail == "webhook AICMO posts to channel 42"


def test_discord_probe_of_a_deleted_webhook_fails(discord, httpserver):
    httpserver.expect_oneshot_request(DISCORD_PATH, method="GET").respond_with_json(
        {"message": "Unknown Webhook", "code": 10015}, status=404)
    with pytest.raises(ProviderUnavailable, match="unknown webhook"):
        discord.probe()


def test_discord_waits_for_the_message_and_keeps_its_id(discord, httpserver):
    embeds = [{"title": "Jane Doe", "description": "Acme Inc.", "url": "https://example.com",
               "fields": [{"name": "Plan", "value": "Pro", "inline": True}], "footer": {"text": "via AICMO"}}]
    httpserver.expect_oneshot_request(DISCORD_PATH, method="POST", query_string="wait=true", json={
        "content": "New signup", "username": "AICMO", "allowed_mentions": {"parse": []}, "embeds": embeds,
    }).respond_with_json({"id": "1234567890", "channel_id": "42", "content": "New signup", "embeds": embeds})

    published = discord.publish(post("New signup", embeds=embeds))

    assert (published.status, published.external_id) == ("published", "1234567890")


def test_discord_invalid_form_body_is_rejected_with_the_fields(discord, httpserver):
    httpserver.expect_request(DISCORD_PATH).respond_with_json(
        {"code": 50035, "message": "Invalid Form Body", "errors": {"embeds": {"0": {"url": {"_errors": []}}}}},
        status=400)
    with pytest.raises(ProviderRejected) as caught:
        discord.publish(post())
    assert caught.value.message == "Discord refused the message (50035 Invalid Form Body: embeds)"
    assert caught.value.status == 400


def test_discord_unknown_webhook_is_unavailable(discord, httpserver):
    httpserver.expect_request(DISCORD_PATH).respond_with_json({"message": "Unknown Webhook", "code": 10015},
                                                              status=404)
    with pytest.raises(ProviderUnavailable, match="unknown webhook") as caught:
        discord.publish(post())
    assert "was deleted" in caught.value.advice


def test_discord_rate_limit_reads_retry_after(discord, httpserver):
    httpserver.expect_request(DISCORD_PATH).respond_with_json(
        {"message": "You are being rate limited.", "retry_after": 64.57, "global": False}, status=429,
        headers={"Retry-After": "65", "X-RateLimit-Scope": "user"})
    with pytest.raises(RateLimited) as caught:
        discord.publish(post())
    assert caught.value.retry_after == 65


@pytest.mark.parametrize("text, embeds, problem", [
    ("x" * 2001, [], "content is longer than 2000"),
    ("hi", [{"title": "t"}] * 11, "more than 10 embeds"),
    ("hi", [{"title": "t" * 257}], "title is longer than 256"),
    ("hi", [{"description": "d" * 4097}], "description is longer than 4096"),
    ("hi", [{"fields": [{"name": "n", "value": "v"}] * 26}], "more than 25 fields"),
    ("hi", [{"fields": [{"name": "n", "value": "v" * 1025}]}], "a field is longer"),
    ("hi", [{"footer": {"text": "f" * 2049}}], "footer is longer than 2048"),
    ("hi", [{"description": "d" * 4000}, {"description": "d" * 2001}], "more than 6000 characters in all"),
])
def test_discord_limits_are_checked_before_posting(discord, httpserver, text, embeds, problem):
    with pytest.raises(ProviderRejected, match=problem):
        discord.publish(post(text, embeds=embeds))
    assert httpserver.log == []
