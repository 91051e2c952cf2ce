"""GitHub's REST API replayed: the self-check's /rate_limit call and its documented failures."""

import time
from datetime import UTC, datetime

import pytest

from gateways.adapters.github import API_VERSION, GitHubSignalsAdapter
from gateways.capabilities import RepositoryFigures, RepositoryTraffic
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


# ---- repository statistics: docs.github.com/en/rest/repos/repos#get-a-repository,
# docs.github.com/en/rest/releases/releases#list-releases, docs.github.com/en/rest/metrics/traffic,
# docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api (conditional requests),
# docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api

REPOSITORY = {"id": 1296269, "full_name": "octocat/Hello-World", "stargazers_count": 80, "watchers_count": 80,
              "subscribers_count": 42, "forks_count": 9, "open_issues_count": 3}
ETAG = 'W/"644b5b0155e6404a9cc4bd9d8b1ae730"'


def release(tag: str, **fields) -> dict:
    return {"id": hash(tag) % 10_000, "tag_name": tag, "name": f"Release {tag}", "draft": False,
            "prerelease": False, "html_url": f"https://github.com/octocat/Hello-World/releases/tag/{tag}",
            "published_at": "2026-11-20T09:00:00Z", "body": "Notes", **fields}


def test_a_repository_is_read_with_its_etag(github, httpserver):
    httpserver.expect_request("/repos/octocat/Hello-World", headers=HEADERS).respond_with_json(
        REPOSITORY, headers={"ETag": ETAG})

    answer = github.repository("octocat/Hello-World")

    assert answer.etag == ETAG and not answer.not_modified
    assert answer.value == RepositoryFigures(full_name="octocat/Hello-World", stars=80, forks=9, watchers=42,
                                             open_issues=3)


def test_a_304_to_the_etag_says_nothing_changed(github, httpserver):
    httpserver.expect_request("/repos/octocat/Hello-World", headers={"If-None-Match": ETAG}).respond_with_data(
        "", status=304, headers={"ETag": ETAG})

    answer = github.repository("octocat/Hello-World", etag=ETAG)

    assert answer.not_modified and answer.etag == ETAG and answer.value is None


def test_releases_follow_the_link_header_and_skip_drafts(github, httpserver):
    following = httpserver.url_for("/repositories/1296269/releases") + "?per_page=100&page=2"
    httpserver.expect_ordered_request("/repos/octocat/Hello-World/releases", query_string="per_page=100") \
        .respond_with_json([release("v2.0"), release("v2.1-draft", draft=True, published_at=None)],
                           headers={"ETag": ETAG, "Link": f'<{following}>; rel="next", <{following}>; rel="last"'})
    httpserver.expect_ordered_request("/repositories/1296269/releases", query_string="per_page=100&page=2") \
        .respond_with_json([release("v1.0", published_at="2025-01-02T03:04:05Z")])

    answer = github.releases("octocat/Hello-World")

    assert [r.tag for r in answer.value] == ["v2.0", "v1.0"] and answer.etag == ETAG
    assert answer.value[1].published_at == datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_traffic_is_counted(github, httpserver):
    httpserver.expect_request("/repos/octocat/Hello-World/traffic/views").respond_with_json(
        {"count": 14850, "uniques": 3782, "views": [{"timestamp": "2026-11-23T00:00:00Z", "count": 440,
                                                     "uniques": 143}]})

    assert github.traffic("octocat/Hello-World", "views") == RepositoryTraffic(count=14850, uniques=3782)


def test_traffic_without_push_access_is_not_available_rather_than_an_error(github, httpserver):
    httpserver.expect_request("/repos/octocat/Hello-World/traffic/clones").respond_with_json(
        {"message": "Must have push access to repository",
         "documentation_url": "https://docs.github.com/rest/metrics/traffic#get-repository-clones",
         "status": "403"}, status=403)

    assert github.traffic("octocat/Hello-World", "clones") is None


def test_a_used_up_quota_waits_until_the_reset(github, httpserver):
    reset = int(time.time()) + 120
    httpserver.expect_request("/repos/octocat/Hello-World").respond_with_json(
        {"message": "API rate limit exceeded for user ID 1."}, status=403,
        headers={"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                 "x-ratelimit-reset": str(reset)})

    with pytest.raises(RateLimited) as caught:
        github.repository("octocat/Hello-World")

    assert 100 < caught.value.retry_after <= 120


def test_a_secondary_limit_on_traffic_is_a_rate_limit_not_missing_access(github, httpserver):
    httpserver.expect_request("/repos/octocat/Hello-World/traffic/views").respond_with_json(
        {"message": "You have exceeded a secondary rate limit."}, status=403, headers={"retry-after": "30"})

    with pytest.raises(RateLimited) as caught:
        github.traffic("octocat/Hello-World", "views")

    assert caught.value.retry_after == 30


def test_a_server_error_is_unavailable(github, httpserver):
    httpserver.expect_request("/repos/octocat/Hello-World").respond_with_data("oops", status=502)

    with pytest.raises(ProviderUnavailable) as caught:
        github.repository("octocat/Hello-World")

    assert caught.value.status == 502 and not isinstance(caught.value, RateLimited)


def test_a_timeout_is_unavailable(make_adapter, answers_late):
    url = answers_late("/repos/octocat/Hello-World")
    slow = make_adapter(GitHubSignalsAdapter, credentials={"token": TOKEN}, timeout=0.2,
                        base_url=url.rsplit("/repos/", 1)[0])

    with pytest.raises(ProviderUnavailable, match="no answer"):
        slow.repository("octocat/Hello-World")


# docs.github.com/en/rest/activity/starring#list-stargazers, docs.github.com/en/rest/users/users#get-a-user

def user(login: str, **fields) -> dict:
    return {"login": login, "id": hash(login) % 100_000, "type": "User", "site_admin": False, **fields}


def test_stargazers_are_read_page_by_page_from_the_link_header(github, httpserver):
    following = httpserver.url_for("/repositories/1296269/stargazers") + "?per_page=100&page=2"
    httpserver.expect_ordered_request("/repos/octocat/Hello-World/stargazers", headers=HEADERS,
                                      query_string="per_page=100").respond_with_json(
        [user("octocat"), user("bad/../login")], headers={"Link": f'<{following}>; rel="next"'})
    httpserver.expect_ordered_request("/repositories/1296269/stargazers", query_string="per_page=100&page=2") \
        .respond_with_json([user("hubot")])

    first = github.stargazers("octocat/Hello-World")
    second = github.stargazers("octocat/Hello-World", page_url=first.next_url)

    assert first.logins == ["octocat"] and first.next_url == following
    assert second.logins == ["hubot"] and second.next_url == ""


def test_a_next_page_elsewhere_is_not_followed(github):
    with pytest.raises(ProviderUnavailable, match="outside"):
        github.stargazers("octocat/Hello-World", page_url="https://evil.example/stargazers?page=2")


def test_a_public_email_is_read_and_a_hidden_one_is_empty(github, httpserver):
    httpserver.expect_request("/users/octocat", headers=HEADERS).respond_with_json(
        user("octocat", name="monalisa octocat", email="octocat@github.com"))
    httpserver.expect_request("/users/hubot").respond_with_json(user("hubot", email=None))

    assert github.public_email("octocat") == "octocat@github.com"
    assert github.public_email("hubot") == ""
