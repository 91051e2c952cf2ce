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


class StargazersReplay:
    """A repository's stargazers, `per_page` to a page linked by `Link: rel="next"`
    (docs.github.com/en/rest/activity/starring#list-stargazers), and users whose `email` is the public
    one or null (docs.github.com/en/rest/users/users#get-a-user)."""

    def __init__(self, httpserver, emails: dict[str, str | None], *, full_name="octocat/Hello-World",
                 per_page: int = 2):
        self.server, self.emails, self.per_page = httpserver, emails, per_page
        self.user_reads: list[str] = []
        self.refusal: Response | None = None
        httpserver.expect_request(f"/repos/{full_name}/stargazers").respond_with_handler(self._page)
        httpserver.expect_request(f"/stargazers/{full_name}").respond_with_handler(self._page)
        for login in emails:
            httpserver.expect_request(f"/users/{login}").respond_with_handler(self._user)

    def _page(self, request):
        logins = list(self.emails)
        page = int(request.args.get("page", "1"))
        chunk = logins[(page - 1) * self.per_page:page * self.per_page]
        headers = {}
        if page * self.per_page < len(logins):
            following = self.server.url_for(f"/stargazers/{request.path.split('/repos/')[-1].rsplit('/', 1)[0]}")
            headers["Link"] = f'<{following}?per_page=100&page={page + 1}>; rel="next"'
        return Response(json.dumps([{"login": login, "id": n, "type": "User"} for n, login in enumerate(chunk)]),
                        content_type="application/json", headers=headers)

    def _user(self, request):
        if self.refusal is not None:
            refusal, self.refusal = self.refusal, None
            return refusal
        login = request.path.rsplit("/", 1)[-1]
        self.user_reads.append(login)
        return Response(json.dumps({"login": login, "email": self.emails[login]}), content_type="application/json")
