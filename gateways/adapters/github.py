"""GitHub (https://docs.github.com/en/rest): the token that reads repositories and the secret that signs
the repository webhooks (stars, forks, releases).

The self-check asks /rate_limit, which GitHub does not count against the hourly quota.
"""

from __future__ import annotations

from gateways.adapters._http import HttpAdapterMixin
from gateways.capabilities import RepositorySignalsAdapter, register

API_VERSION = "2022-11-28"


@register
class GitHubSignalsAdapter(HttpAdapterMixin, RepositorySignalsAdapter):
    key = "github"
    label = "GitHub"
    secret_parameters = ("token", "webhook_secret", "previous_webhook_secret")
    webhook_secret_parameters = ("webhook_secret", "previous_webhook_secret")
    default_base_url = "https://api.github.com"
    credentials_advice = ("GitHub answers {status}: the token is wrong, expired or lacks access to the "
                          "repositories; enter a token that may read them in Provider accounts.")

    def http_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.credential('token')}", "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION}

    def probe(self):
        def rate_limit() -> str:
            core = (self.http.request_json("GET", self.url("/rate_limit")).get("resources") or {}).get("core") or {}
            return f"{core.get('remaining', '?')} of {core.get('limit', '?')} requests left this hour"

        return self.timed_probe(rate_limit)
