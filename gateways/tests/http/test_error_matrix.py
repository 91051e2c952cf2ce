"""Every HTTP adapter maps the provider's failure answers the same way, so the chain can decide
failover from the error type alone."""

import pytest

from gateways.adapters.airtable import AirtableSyncAdapter
from gateways.adapters.apollo import ApolloEnrichmentAdapter
from gateways.adapters.bluesky import BlueskyPostingAdapter
from gateways.adapters.devto import DevtoMetricsAdapter, DevtoPostingAdapter
from gateways.adapters.discord import DiscordPostingAdapter
from gateways.adapters.dropcontact import DropcontactEnrichmentAdapter, DropcontactVerificationAdapter
from gateways.adapters.mastodon import MastodonPostingAdapter
from gateways.adapters.slack import SlackPostingAdapter
from gateways.adapters.slack_bot import SlackBotPostingAdapter
from gateways.adapters.stripe_payments import StripePaymentsAdapter
from gateways.adapters.webhook import WebhookPostingAdapter
from gateways.adapters.x import XPostingAdapter
from gateways.capabilities import ChannelPost, PersonQuery, SyncRecord
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited

from .conftest import API_KEY

POST = ChannelPost(idempotency_key="job-1", text="hello")
PERSON = [PersonQuery(ref="1", email="a@b.test")]

# adapter, settings, credentials, the path its first request goes to, the call
CASES = {
    "apollo": (ApolloEnrichmentAdapter, {}, {"api_key": API_KEY}, "/people/match", lambda a: a.enrich(PERSON)),
    "dropcontact": (DropcontactEnrichmentAdapter, {}, {"api_key": API_KEY}, "/v1/enrich/all",
                    lambda a: a.enrich(PERSON)),
    "dropcontact_verification": (DropcontactVerificationAdapter, {}, {"api_key": API_KEY}, "/v1/enrich/all",
                                 lambda a: a.verify(["a@b.test"])),
    "airtable": (AirtableSyncAdapter, {"base_id": "app1", "table": "People"}, {"token": API_KEY}, "/app1/People",
                 lambda a: a.upsert([SyncRecord(key="a@b.test", fields={})])),
    "devto": (DevtoPostingAdapter, {}, {"api_key": API_KEY}, "/api/articles", lambda a: a.publish(POST)),
    "devto_metrics": (DevtoMetricsAdapter, {}, {"api_key": API_KEY}, "/api/articles/me/all",
                      lambda a: a.fetch(["1"])),
    "slack": (SlackPostingAdapter, {}, {"webhook_url": "{server}/services/T/B/x"}, "/services/T/B/x",
              lambda a: a.publish(POST)),
    "slack_bot": (SlackBotPostingAdapter, {"channel_id": "C1"}, {"bot_token": API_KEY}, "/chat.postMessage",
                  lambda a: a.publish(POST)),
    "discord": (DiscordPostingAdapter, {}, {"webhook_url": "{server}/api/webhooks/1/t"}, "/api/webhooks/1/t",
                lambda a: a.publish(POST)),
    "webhook": (WebhookPostingAdapter, {"url": "{server}/receive"},
                {"signing_secret": "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="}, "/receive",
                lambda a: a.publish(POST)),
    "x": (XPostingAdapter, {}, {"access_token": API_KEY}, "/2/tweets", lambda a: a.publish(POST)),
    "mastodon": (MastodonPostingAdapter, {}, {"access_token": API_KEY}, "/api/v2/instance", lambda a: a.publish(POST)),
    "bluesky": (BlueskyPostingAdapter, {"identifier": "me.bsky.social"}, {"app_password": API_KEY},
                "/xrpc/com.atproto.server.createSession", lambda a: a.publish(POST)),
    "stripe": (StripePaymentsAdapter, {}, {"secret_key": API_KEY}, "/v1/charges", lambda a: a.list_charges()),
}

# A post that may have been stored before the server failed, on a channel that finds its posts by
# their key: the look-up says whether to send it again, so the error is an unknown outcome.
LOOKED_UP_AFTER_A_SERVER_ERROR = {"slack_bot"}


def build(make_adapter, httpserver, key):
    cls, settings, credentials, path, call = CASES[key]
    server = httpserver.url_for("").rstrip("/")
    fill = {name: value.replace("{server}", server) for name, value in credentials.items()}
    adapter = make_adapter(cls, settings={k: v.replace("{server}", server) for k, v in settings.items()},
                           credentials=fill)
    return adapter, path, call


@pytest.mark.parametrize("key", CASES)
def test_a_server_error_is_unavailable(make_adapter, httpserver, key):
    adapter, path, call = build(make_adapter, httpserver, key)
    httpserver.expect_request(path).respond_with_json({"error": "Internal error"}, status=503)
    if key in LOOKED_UP_AFTER_A_SERVER_ERROR:
        with pytest.raises(OutcomeUnknown) as caught:
            call(adapter)
        assert (caught.value.provider, caught.value.status) == ("primary", 503)
        return
    with pytest.raises(ProviderUnavailable) as caught:
        call(adapter)
    assert not isinstance(caught.value, OutcomeUnknown | ProviderRejected)
    assert (caught.value.provider, caught.value.status) == ("primary", 503)


@pytest.mark.parametrize("key", CASES)
def test_too_many_requests_is_rate_limited_with_retry_after(make_adapter, httpserver, key):
    adapter, path, call = build(make_adapter, httpserver, key)
    httpserver.expect_request(path).respond_with_json({"message": "slow down"}, status=429,
                                                      headers={"Retry-After": "42"})
    with pytest.raises(RateLimited) as caught:
        call(adapter)
    assert caught.value.retry_after == 42


@pytest.mark.parametrize("key", CASES)
def test_refused_credentials_are_unavailable_with_advice_and_no_secret(make_adapter, httpserver, key):
    adapter, path, call = build(make_adapter, httpserver, key)
    [secret] = adapter.credentials.values()
    httpserver.expect_request(path).respond_with_json({"error": f"bad credentials {secret}"}, status=401)
    with pytest.raises(ProviderUnavailable) as caught:
        call(adapter)
    assert caught.value.status == 401
    assert "Provider accounts" in caught.value.advice
    assert secret not in str(caught.value) + caught.value.advice


@pytest.mark.parametrize("key", CASES)
def test_a_refused_request_is_rejected_without_failover(make_adapter, httpserver, key):
    adapter, path, call = build(make_adapter, httpserver, key)
    httpserver.expect_request(path).respond_with_json({"error": "Unprocessable"}, status=422)
    if key == "airtable":  # a refused batch is reported per record, the call itself succeeds
        assert call(adapter).failed == [("a@b.test", "Airtable answered 422: Unprocessable")]
        return
    with pytest.raises(ProviderRejected, match="Unprocessable"):
        call(adapter)
