"""Media files as a browser gets them, wherever the run keeps them (MEDIA_ROOT, or a bucket with
`pytest --media-storage=bucket`): the same assertions hold for both."""

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import requests
from django.core.files.storage import default_storage
from django.http import HttpResponse


def renditions_url(origin: str = "") -> str:
    """Where the storage serves public renditions from: MEDIA_URL's folder, or the bucket's (or CDN's)."""
    return urljoin(origin, default_storage.url("renditions/"))


@dataclass
class Served:
    status_code: int
    headers: Mapping[str, str]  # case-insensitive, as HTTP's
    content: bytes

    def __getitem__(self, name: str) -> str:
        return self.headers[name]


def served(client, answer: HttpResponse | str) -> Served:
    """The bytes and headers a browser ends up with: a redirect to the bucket (a signed URL) or a
    public URL outside the site is fetched over HTTP, the rest is answered by the test client."""
    if isinstance(answer, str):
        if urlsplit(answer).hostname in (None, "testserver"):
            answer = client.get(answer)
        else:
            return _fetched(answer)
    location = answer.get("Location", "") if answer.status_code in (301, 302) else ""
    if urlsplit(location).hostname not in (None, "testserver"):
        return _fetched(location)
    content = b"".join(answer.streaming_content) if answer.streaming else answer.content
    return Served(answer.status_code, answer.headers, content)


def _fetched(url: str) -> Served:
    reply = requests.get(url, timeout=30)
    return Served(reply.status_code, reply.headers, reply.content)
