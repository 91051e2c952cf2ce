"""GitHub (https://docs.github.com/en/rest): the token that reads repositories and the secret that signs
the repository webhooks (stars, forks, releases).

Reads follow GitHub's best practices (docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-
the-rest-api): conditional requests with the last ETag, whose 304 answer does not count against the rate
limit; a primary limit hit (403 or 429 with `x-ratelimit-remaining: 0`) waits until `x-ratelimit-reset`, a
secondary one (403 or 429 with `retry-after`) for that many seconds (docs.github.com/en/rest/using-the-rest-
api/rate-limits-for-the-rest-api). Traffic (docs.github.com/en/rest/metrics/traffic) needs push access;
without it GitHub answers 403 "Must have push access to repository", which is "not available", not a failure.

The self-check asks /rate_limit, which GitHub does not count against the hourly quota.
"""

from __future__ import annotations

import re
import time
from datetime import datetime
from typing import ClassVar

import requests

from gateways.adapters._http import HttpAdapterMixin, json_object
from gateways.capabilities import (
    Conditional,
    RepositoryFigures,
    RepositoryRelease,
    RepositorySignalsAdapter,
    RepositoryTraffic,
    StargazerPage,
    register,
)
from gateways.errors import GatewayError, ProviderUnavailable, RateLimited

API_VERSION = "2022-11-28"
TRAFFIC_KINDS = ("views", "clones")
NO_PUSH_ACCESS = "must have push access"
# A login goes into a request path: letters, digits and single inner hyphens, as GitHub allows them.
LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$")


def _when(value) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _count(body: dict, key: str) -> int:
    value = body.get(key)
    return value if isinstance(value, int) else 0


@register
class GitHubSignalsAdapter(HttpAdapterMixin, RepositorySignalsAdapter):
    key = "github"
    label = "GitHub"
    secret_parameters = ("token", "webhook_secret", "previous_webhook_secret")
    webhook_secret_parameters = ("webhook_secret", "previous_webhook_secret")
    default_base_url = "https://api.github.com"
    credentials_advice = ("GitHub answers {status}: the token is wrong, expired or lacks access to the "
                          "repositories; enter a token that may read them in Provider accounts.")
    # The largest page GitHub serves, and how many release pages one read follows.
    per_page: ClassVar[int] = 100
    max_release_pages: ClassVar[int] = 10

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('token')}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION}

    def http_error(self, response: requests.Response) -> GatewayError | None:
        if response.status_code not in (403, 429):
            return None
        message = str(json_object(response).get("message") or f"GitHub answered {response.status_code}")
        retry_after = response.headers.get("retry-after")
        if retry_after and retry_after.strip().isdigit():
            return RateLimited(f"GitHub: {message}", status=response.status_code, retry_after=float(retry_after),
                               advice="GitHub's secondary rate limit; the poll waits and tries again.")
        if response.headers.get("x-ratelimit-remaining") == "0":
            reset = response.headers.get("x-ratelimit-reset", "")
            wait = max(0.0, float(reset) - time.time()) if reset.isdigit() else None
            return RateLimited(f"GitHub: {message}", status=response.status_code, retry_after=wait,
                               advice="The token's hourly GitHub quota is used up; polling waits for its reset.")
        return None

    def _conditional_get(self, path: str, etag: str, **params) -> tuple[requests.Response | None, str]:
        headers = {"If-None-Match": etag} if etag else {}
        response = self.http.request("GET", self.url(path), headers=headers, params=params or None, accept=(304,))
        if response.status_code == 304:
            return None, etag
        return response, response.headers.get("ETag", "")

    def repository(self, full_name: str, *, etag: str = "") -> Conditional:
        response, new_etag = self._conditional_get(f"/repos/{full_name}", etag)
        if response is None:
            return Conditional(etag=new_etag, not_modified=True)
        body = json_object(response)
        if not body.get("full_name"):
            raise ProviderUnavailable("GitHub answered with something other than a repository", provider=self.name)
        return Conditional(etag=new_etag, value=RepositoryFigures(
            full_name=str(body["full_name"]), stars=_count(body, "stargazers_count"),
            forks=_count(body, "forks_count"), watchers=_count(body, "subscribers_count"),
            open_issues=_count(body, "open_issues_count")))

    def releases(self, full_name: str, *, etag: str = "") -> Conditional:
        response, new_etag = self._conditional_get(f"/repos/{full_name}/releases", etag, per_page=self.per_page)
        if response is None:
            return Conditional(etag=new_etag, not_modified=True)
        found: list[RepositoryRelease] = []
        for _ in range(self.max_release_pages):
            page = response.json() if response.content else []
            if not isinstance(page, list):
                raise ProviderUnavailable("GitHub answered with something other than a list of releases",
                                          provider=self.name)
            found += [RepositoryRelease(tag=str(item.get("tag_name") or ""), name=str(item.get("name") or ""),
                                        url=str(item.get("html_url") or ""),
                                        published_at=_when(item.get("published_at")))
                      for item in page if isinstance(item, dict) and item.get("tag_name") and not item.get("draft")]
            following = response.links.get("next", {}).get("url")
            if not following:
                break
            response = self.http.request("GET", following)
        return Conditional(etag=new_etag, value=found)

    def traffic(self, full_name: str, kind: str) -> RepositoryTraffic | None:
        if kind not in TRAFFIC_KINDS:
            raise ValueError(f"No traffic {kind!r}; known: {', '.join(TRAFFIC_KINDS)}")
        response = self.http.request("GET", self.url(f"/repos/{full_name}/traffic/{kind}"), accept=(403,))
        if response.status_code == 403:
            error = self.http.failure(response)
            if not isinstance(error, RateLimited) and NO_PUSH_ACCESS in str(error.message).lower():
                return None
            raise error
        body = json_object(response)
        return RepositoryTraffic(count=_count(body, "count"), uniques=_count(body, "uniques"))

    def stargazers(self, full_name: str, *, page_url: str = "") -> StargazerPage:
        # docs.github.com/en/rest/activity/starring#list-stargazers; pages linked by `Link: rel="next"`.
        if page_url and not page_url.startswith(f"{self.base_url}/"):
            raise ProviderUnavailable("GitHub: a stargazers page outside the account's API address was not read",
                                      provider=self.name)
        if page_url:
            response = self.http.request("GET", page_url)
        else:
            response = self.http.request("GET", self.url(f"/repos/{full_name}/stargazers"),
                                         params={"per_page": self.per_page})
        page = response.json() if response.content else []
        if not isinstance(page, list):
            raise ProviderUnavailable("GitHub answered with something other than a list of stargazers",
                                      provider=self.name)
        logins = [str(user.get("login")) for user in page if isinstance(user, dict)]
        return StargazerPage(logins=[login for login in logins if LOGIN.match(login)],
                             next_url=response.links.get("next", {}).get("url", ""))

    def public_email(self, login: str) -> str:
        if not LOGIN.match(login):
            raise ValueError(f"Not a GitHub login: {login!r}")
        # docs.github.com/en/rest/users/users#get-a-user: `email` is the public address, null when hidden.
        return str(self.http.request_json("GET", self.url(f"/users/{login}")).get("email") or "").strip()

    def probe(self):
        def rate_limit() -> str:
            core = (self.http.request_json("GET", self.url("/rate_limit")).get("resources") or {}).get("core") or {}
            return f"{core.get('remaining', '?')} of {core.get('limit', '?')} requests left this hour"

        return self.timed_probe(rate_limit)
