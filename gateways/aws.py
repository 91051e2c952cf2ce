"""AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv4.html)
for requests sent through the guarded HTTP client (gateways.http).

Written here rather than taken from botocore: botocore opens its own urllib3 connections, which the
address guard (gateways.net) would not see, and signing is a page of hashing. The tests check these
signatures against moto's server, which recomputes them with botocore's own signer.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    key = _hmac(f"AWS4{secret_key}".encode(), day)
    for part in (region, service, "aws4_request"):
        key = _hmac(key, part)
    return key


def _canonical_query(query: str) -> str:
    pairs = []
    for item in filter(None, query.split("&")):
        name, _, value = item.partition("=")
        pairs.append((quote(name, safe="-_.~"), quote(value, safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def signed_headers(*, method: str, url: str, body: bytes, region: str, service: str, access_key_id: str,
                   secret_access_key: str, headers: dict[str, str] | None = None,
                   now: datetime | None = None) -> dict[str, str]:
    """The headers to send: `headers`, Host, X-Amz-Date, X-Amz-Content-SHA256 and Authorization. Host
    is set explicitly, so the value signed is the value sent whatever port the URL names."""
    parts = urlsplit(url)
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    amz_date, day = moment.strftime("%Y%m%dT%H%M%SZ"), moment.strftime("%Y%m%d")
    payload_hash = hashlib.sha256(body).hexdigest()
    # X-Amz-Content-SHA256 is optional outside S3, but a verifier then takes the payload's hash from
    # it rather than from the body as it re-reads it (moto reads an empty body as form data).
    sent = {**(headers or {}), "Host": parts.netloc.lower(), "X-Amz-Date": amz_date,
            "X-Amz-Content-SHA256": payload_hash}
    canonical = {name.lower(): " ".join(str(value).split()) for name, value in sent.items()}
    names = sorted(canonical)
    request = "\n".join([
        method.upper(),
        # Every service but S3 encodes the path's segments twice; ours are plain ASCII, so once shows.
        quote(parts.path or "/", safe="/-_.~"),
        _canonical_query(parts.query),
        "".join(f"{name}:{canonical[name]}\n" for name in names),
        ";".join(names),
        payload_hash,
    ])
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join([ALGORITHM, amz_date, scope, hashlib.sha256(request.encode()).hexdigest()])
    signature = hmac.new(signing_key(secret_access_key, day, region, service), to_sign.encode(),
                         hashlib.sha256).hexdigest()
    sent["Authorization"] = (f"{ALGORITHM} Credential={access_key_id}/{scope}, "
                             f"SignedHeaders={';'.join(names)}, Signature={signature}")
    return sent
