import base64
import hashlib
import hmac
import json
import time

import pytest

from gateways.adapters.webhook import WebhookPostingAdapter, signature
from gateways.capabilities import ChannelPost
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited

SECRET = "whsec_dGVzdC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZg=="


def test_signer_matches_the_standard_webhooks_test_vector():
    assert signature([SECRET], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, b'{"test": 2432232314}') == \
        "v1,yEhS0TQGJIHw9Jb7QfhKleNBoJI3sZwmjMTjm3Awx94="


def test_two_secrets_give_two_signatures_for_rotation():
    other = "whsec_" + base64.b64encode(b"another-secret-of-24-bytes!!").decode()
    signed = signature([SECRET, other], "msg_1", 1, b"{}").split(" ")
    assert len(signed) == 2 and all(s.startswith("v1,") for s in signed)


@pytest.fixture
def hook(make_adapter, httpserver):
    return make_adapter(WebhookPostingAdapter, base_url="", settings={"url": httpserver.url_for("/receive")},
                        credentials={"signing_secret": SECRET})


def post():
    return ChannelPost(idempotency_key="pub-job-77", text="Launch day", title="We launched",
                       link_url="https://example.com/launch", tags=["launch"])


def receiver_check(received):
    """What a Standard Webhooks receiver does: recompute the signature over the raw body."""
    msg_id, timestamp = received.headers["webhook-id"], received.headers["webhook-timestamp"]
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, f"{msg_id}.{timestamp}.".encode() + received.get_data(),
                                         hashlib.sha256).digest()).decode()
    assert received.headers["webhook-signature"] == f"v1,{expected}"
    assert abs(int(timestamp) - time.time()) < 300


def test_event_is_signed_with_the_idempotency_key_as_webhook_id(hook, httpserver):
    httpserver.expect_oneshot_request("/receive", method="POST", headers={
        "webhook-id": "pub-job-77", "Content-Type": "application/json"}).respond_with_data("", status=204)

    published = hook.publish(post())

    [(received, _)] = httpserver.log
    receiver_check(received)
    event = json.loads(received.get_data())
    assert event["type"] == "content.published"
    assert event["data"] == {"text": "Launch day", "title": "We launched", "link_url": "https://example.com/launch",
                             "tags": ["launch"], "media_urls": [], "canonical_url": ""}
    assert (published.status, published.external_id) == ("published", "pub-job-77")


def test_a_retry_keeps_the_same_webhook_id(hook, httpserver):
    httpserver.expect_request("/receive").respond_with_data("", status=200)
    hook.publish(post())
    hook.publish(post())
    assert {r.headers["webhook-id"] for r, _ in httpserver.log} == {"pub-job-77"}


def test_410_means_endpoint_gone(hook, httpserver):
    httpserver.expect_request("/receive").respond_with_data("", status=410)
    with pytest.raises(ProviderRejected, match="endpoint gone"):
        hook.publish(post())


@pytest.mark.parametrize("status", [429, 502, 504])
def test_slow_down_answers_are_rate_limits_with_retry_after(hook, httpserver, status):
    httpserver.expect_request("/receive").respond_with_data("", status=status, headers={"Retry-After": "300"})
    with pytest.raises(RateLimited) as caught:
        hook.publish(post())
    assert caught.value.retry_after == 300


def test_a_redirect_is_a_failure_and_never_followed(hook, httpserver):
    httpserver.expect_oneshot_request("/receive").respond_with_data(
        "", status=307, headers={"Location": httpserver.url_for("/elsewhere")})
    with pytest.raises(ProviderUnavailable, match="a redirect"):
        hook.publish(post())
    assert len(httpserver.log) == 1


def test_a_malformed_secret_is_unavailable_without_posting(make_adapter, httpserver):
    adapter = make_adapter(WebhookPostingAdapter, settings={"url": httpserver.url_for("/receive")},
                           credentials={"signing_secret": "whsec_not base64!"})
    with pytest.raises(ProviderUnavailable, match="whsec_"):
        adapter.publish(post())
    assert httpserver.log == []


def test_webhook_is_not_probed(hook, httpserver):
    assert hook.probe().detail.startswith("not probed")


def test_the_receiver_url_may_be_the_accounts_base_url(make_adapter, httpserver):
    adapter = make_adapter(WebhookPostingAdapter, base_url=httpserver.url_for("/receive"),
                           credentials={"signing_secret": SECRET})
    httpserver.expect_oneshot_request("/receive", method="POST").respond_with_data("", status=202)
    assert adapter.publish(post()).status == "published"


def test_no_receiver_url_is_unavailable(make_adapter):
    adapter = make_adapter(WebhookPostingAdapter, base_url="", credentials={"signing_secret": SECRET})
    with pytest.raises(ProviderUnavailable, match="url is not set"):
        adapter.publish(post())
