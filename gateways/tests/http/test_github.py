"""GitHub's REST API replayed: the self-check's /rate_limit call and its documented failures."""

import pytest

from gateways.adapters.github import API_VERSION, GitHubSignalsAdapter
from gateways.errors import ProviderUnavailable, RateLimited

TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"
HEADERS = {"Authorization": f"Bearer {TOKEN}", "X-GitHub-Api-Version": API_VERSION,
           "Accept": "application/vnd.github+json"}


@pytest.fixture
def github(make_adapter):
    return make_adapter(GitHubSignalsAdapter, credentials={"token": TOKEN, "webhook_secret": "It's a Secret"})


def test_the_self_check_reads_the_rate_limit(github, httpserver):
    httpserver.expect_request("/rate_limit", headers=HEADERS).respond_with_json({"resources": {"core": {
        "limit": 5000, "used": 1, "remaining": 4999, "reset": 1691591363}}, "rate": {"limit": 5000}})

    assert github.probe().detail == "4999 of 5000 requests left this hour"


def test_a_bad_token_is_unavailable_without_showing_it(github, httpserver):
    httpserver.expect_request("/rate_limit").respond_with_json(
        {"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
         "status": "401"}, status=401)

    with pytest.raises(ProviderUnavailable, match="Bad credentials") as caught:
        github.probe()

    assert TOKEN not in str(caught.value) and "token" in caught.value.advice


def test_a_secondary_rate_limit_says_when_to_come_back(github, httpserver):
    httpserver.expect_request("/rate_limit").respond_with_json(
        {"message": "You have exceeded a secondary rate limit."}, status=429, headers={"Retry-After": "60"})

    with pytest.raises(RateLimited) as caught:
        github.probe()

    assert caught.value.retry_after == pytest.approx(60)


def test_webhook_secrets_are_read_from_the_account_without_a_request(make_adapter):
    adapter = make_adapter(GitHubSignalsAdapter,
                           credentials={"webhook_secret": "new", "previous_webhook_secret": "old"})
    assert adapter.webhook_secrets() == ["new", "old"]
