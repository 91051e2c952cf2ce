"""No credential reaches an error message, its traceback or a log record, even at DEBUG and even when a
provider echoes the key back."""

import logging
import socket
import traceback

import pytest

from gateways.adapters.apollo import ApolloEnrichmentAdapter
from gateways.adapters.bluesky import BlueskyPostingAdapter
from gateways.adapters.discord import DiscordPostingAdapter
from gateways.adapters.slack import SlackPostingAdapter
from gateways.capabilities import ChannelPost, PersonQuery
from gateways.errors import GatewayError

from .conftest import API_KEY

WEBHOOK_SECRET = "T0001/B0002/hush-9f8e7d6c5b4a"


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def everything_said(error: GatewayError, caplog) -> str:
    said = [str(error), repr(error), error.advice, repr(error.details), *traceback.format_exception(error)]
    # werkzeug's records are the contract server's own access log, i.e. the provider's side.
    said += [record.getMessage() for record in caplog.records if not record.name.startswith("werkzeug")]
    return "\n".join(said)


@pytest.fixture(autouse=True)
def debug_logs(caplog):
    caplog.set_level(logging.DEBUG)


@pytest.mark.parametrize("status", [401, 403, 422, 500])
def test_an_echoed_api_key_is_redacted(make_adapter, httpserver, caplog, status):
    adapter = make_adapter(ApolloEnrichmentAdapter, credentials={"api_key": API_KEY})
    httpserver.expect_request("/people/match").respond_with_json(
        {"error": f"Key {API_KEY} is not accessible with this api_key"}, status=status)

    with pytest.raises(GatewayError) as caught:
        adapter.enrich([PersonQuery(ref="1", email="a@b.test")])

    assert "[redacted]" in caught.value.message
    assert API_KEY not in everything_said(caught.value, caplog)


def test_a_slack_webhook_url_stays_out_of_logs_and_errors(make_adapter, httpserver, caplog):
    url = httpserver.url_for(f"/services/{WEBHOOK_SECRET}")
    adapter = make_adapter(SlackPostingAdapter, base_url="", credentials={"webhook_url": url})
    httpserver.expect_oneshot_request(f"/services/{WEBHOOK_SECRET}").respond_with_data("ok")
    httpserver.expect_oneshot_request(f"/services/{WEBHOOK_SECRET}").respond_with_data("invalid_token", status=403)
    post = ChannelPost(idempotency_key="j", text="hi")

    adapter.publish(post)
    with pytest.raises(GatewayError) as caught:
        adapter.publish(post)

    assert any("urllib3" in record.name for record in caplog.records)  # DEBUG logging really was on
    assert "hush" not in everything_said(caught.value, caplog)


def test_an_unreachable_discord_webhook_does_not_reveal_its_token(make_adapter, caplog):
    url = f"http://127.0.0.1:{closed_port()}/api/webhooks/1/{WEBHOOK_SECRET}"
    adapter = make_adapter(DiscordPostingAdapter, base_url="", credentials={"webhook_url": url})

    with pytest.raises(GatewayError) as caught:
        adapter.publish(ChannelPost(idempotency_key="j", text="hi"))

    assert caught.value.message == "Discord: could not connect to 127.0.0.1"
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "hush" not in everything_said(caught.value, caplog)


def test_a_bluesky_app_password_is_not_in_a_refused_session(make_adapter, httpserver, caplog):
    adapter = make_adapter(BlueskyPostingAdapter, settings={"identifier": "me.bsky.social"},
                           credentials={"app_password": API_KEY})
    httpserver.expect_request("/xrpc/com.atproto.server.createSession").respond_with_json(
        {"error": "AuthenticationRequired", "message": f"Invalid password {API_KEY}"}, status=401)

    with pytest.raises(GatewayError) as caught:
        adapter.probe()

    assert API_KEY not in everything_said(caught.value, caplog)
