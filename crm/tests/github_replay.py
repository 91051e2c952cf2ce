"""GitHub's repository reads replayed for the CRM's poll, as the REST API documents them:
docs.github.com/en/rest/repos/repos#get-a-repository, docs.github.com/en/rest/releases/releases#list-releases,
docs.github.com/en/rest/metrics/traffic, and conditional requests (If-None-Match answered 304 with no body,
docs.github.com/en/rest/using-the-rest-api/best-practices-for-using-the-rest-api)."""

import json

from werkzeug import Response

from gateways.capabilities import Capability
from gateways.services import account_create

TOKEN = "ghp_16C7e42F292c6912E7710c838347Ae178B4a"


def github_account(httpserver):
    return account_create(capability=Capability.REPOSITORY_SIGNALS, adapter="github", name="github",
                          base_url=httpserver.url_for("/"), timeout_seconds=2.0, credentials={"token": TOKEN})


class GitHubReplay:
    """One repository's state; change `stars` or `releases` and the ETag changes with it."""

    def __init__(self, httpserver, full_name: str = "octocat/Hello-World", *, push_access: bool = True):
        self.full_name = full_name
        self.stars, self.forks, self.watchers, self.open_issues = 80, 9, 42, 3
        self.releases = [("v1.0", "2026-11-20T09:00:00Z")]
        self.push_access = push_access
        self.answers: list[tuple[str, int]] = []
        self.refusal: Response | None = None  # served once, instead of the next answer
        for path in ("", "/releases", "/traffic/views", "/traffic/clones"):
            httpserver.expect_request(f"/repos/{full_name}{path}").respond_with_handler(self._answer)

    def _body(self, path: str):
        if path.endswith("/releases"):
            return [{"tag_name": tag, "name": tag, "draft": False, "published_at": at,
                     "html_url": f"https://github.com/{self.full_name}/releases/tag/{tag}"}
                    for tag, at in self.releases]
        return {"full_name": self.full_name, "stargazers_count": self.stars, "watchers_count": self.stars,
                "subscribers_count": self.watchers, "forks_count": self.forks, "open_issues_count": self.open_issues}

    def _answer(self, request):
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return self._log(request, Response(json.dumps({"message": "Bad credentials"}), status=401))
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            return self._log(request, refusal)
        if "/traffic/" in request.path:
            if not self.push_access:
                return self._log(request, Response(json.dumps(
                    {"message": "Must have push access to repository", "status": "403"}), status=403,
                    content_type="application/json"))
            count = 14850 if request.path.endswith("views") else 173
            return self._log(request, Response(json.dumps({"count": count, "uniques": count // 4}),
                                               content_type="application/json"))
        body = json.dumps(self._body(request.path))
        etag = f'W/"{abs(hash(body)):x}"'
        if request.headers.get("If-None-Match") == etag:
            return self._log(request, Response(status=304, headers={"ETag": etag}))
        return self._log(request, Response(body, content_type="application/json", headers={"ETag": etag}))

    def _log(self, request, response: Response) -> Response:
        self.answers.append((request.path, response.status_code))
        return response
