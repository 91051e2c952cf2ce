"""The link checker: every link of a content item and its channel versions fetched through the gateways'
SSRF-safe HTTP client (HEAD, then GET when HEAD is refused), concurrently with a per-site limit, redirects
followed to the end. Answers are cached for a day in Django's cache (Redis in production): a link shared
by many posts is fetched once, the entry expires by itself, and no table grows with every URL ever seen.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.cache import cache

from gateways.errors import GatewayError
from gateways.http import ProviderHttp
from publishing.models import Content

CACHE_SECONDS = 24 * 60 * 60
WORKERS = 16
# Several links to one site at once look like an attack to its firewall, and slow it for its visitors.
PER_SITE = 4
TIMEOUT_SECONDS = 10.0
MAX_REDIRECTS = 10
# HEAD answers that mean "ask with GET instead" rather than "this link is broken".
HEAD_REFUSED = frozenset({400, 403, 405, 501})
# Markdown links and bare URLs; a closing bracket or punctuation after a URL ends it.
_URL = re.compile(r"https?://[^\s<>()\[\]\"'`]+", re.IGNORECASE)
_TRAILING = ".,;:!?*_"


@dataclass(frozen=True)
class LinkResult:
    url: str
    ok: bool
    status: int | None = None
    final_url: str = ""  # where redirects ended, when they did
    error: str = ""

    @property
    def redirected(self) -> bool:
        return bool(self.final_url) and self.final_url != self.url

    def as_dict(self) -> dict:
        return asdict(self)


def content_links(content: Content, versions=None) -> list[str]:
    """Every distinct http(s) link of the content and its versions, in order of first appearance."""
    texts = [content.link_url, content.summary, content.body]
    texts += [version.body for version in (content.versions.all() if versions is None else versions)]
    found: dict[str, None] = {}
    for text in texts:
        for match in _URL.findall(text or ""):
            found.setdefault(match.rstrip(_TRAILING), None)
    return list(found)


def links_check(urls: list[str], *, timeout: float = TIMEOUT_SECONDS, use_cache: bool = True) -> list[LinkResult]:
    """Each URL's result, in the order given; fetched concurrently, at most PER_SITE at once per host."""
    results: dict[str, LinkResult] = {}
    if use_cache:
        cached = cache.get_many([_cache_key(url) for url in urls])
        results = {url: LinkResult(**cached[_cache_key(url)]) for url in urls if _cache_key(url) in cached}
    todo = [url for url in urls if url not in results]
    sites: dict[str, threading.BoundedSemaphore] = defaultdict(lambda: threading.BoundedSemaphore(PER_SITE))
    for url in todo:
        sites[(urlsplit(url).hostname or "").lower()]  # created here, before threads race to create them

    def check(url: str) -> LinkResult:
        with sites[(urlsplit(url).hostname or "").lower()]:
            return link_check(url, timeout=timeout)

    if todo:
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(todo))) as pool:
            fetched = dict(zip(todo, pool.map(check, todo), strict=True))
        results.update(fetched)
        if use_cache:
            cache.set_many({_cache_key(url): result.as_dict() for url, result in fetched.items()}, CACHE_SECONDS)
    return [results[url] for url in urls]


def link_check(url: str, *, timeout: float = TIMEOUT_SECONDS) -> LinkResult:
    """One link: HEAD, then GET when the site refuses HEAD; any 2xx at the end of the redirects is working."""
    http = ProviderHttp(
        provider="Link checker", label=urlsplit(url).hostname or url, timeout=timeout, headers={"Accept": "*/*"}
    )
    http.session.max_redirects = MAX_REDIRECTS
    try:
        try:
            response = http.request("HEAD", url, follow_redirects=True)
        except GatewayError as error:
            if error.status not in HEAD_REFUSED:
                raise
            response = http.request("GET", url, follow_redirects=True, stream=True)
            response.close()  # the status is enough; the body may be a large file
    except GatewayError as error:
        return LinkResult(url=url, ok=False, status=error.status, error=_reason(error))
    finally:
        http.close()
    return LinkResult(url=url, ok=True, status=response.status_code, final_url=response.url)


def _reason(error: GatewayError) -> str:
    if error.status:
        return f"answered {error.status}"
    message = error.message.split(": ", 1)[-1]
    return message


def _cache_key(url: str) -> str:
    return "publishing:link:" + hashlib.sha256(url.encode()).hexdigest()


def with_utm(url: str, params: dict[str, str]) -> str:
    """The URL with each utm_ parameter it lacks; those already in it are the author's choice and kept."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    present = {key for key, _ in query}
    query += [(key, value) for key, value in params.items() if key not in present and value]
    return urlunsplit(parts._replace(query=urlencode(query)))


def text_with_utm(text: str, params: dict[str, str]) -> str:
    """Every http(s) link in the text with the utm_ parameters it lacks."""

    def add(match: re.Match) -> str:
        url = match.group(0)
        bare = url.rstrip(_TRAILING)
        return with_utm(bare, params) + url[len(bare):]

    return _URL.sub(add, text)
