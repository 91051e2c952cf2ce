"""Web push against a local push service that does what a browser's does: checks the VAPID token against
the key it names (RFC 8292), and, holding the subscription's private key as the browser would, decrypts
the aes128gcm payload with http_ece (RFC 8291) to prove what arrives is what was sent."""

import json

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from werkzeug import Response

from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.models import VapidKeys
from gateways.testing.webpush import Browser as TestBrowser
from gateways.testing.webpush import b64url, unb64url
from gateways.webpush import PushTarget, push_send, vapid_keys

pytestmark = pytest.mark.django_db


class Browser(TestBrowser):
    def target(self, endpoint: str) -> PushTarget:
        return PushTarget(endpoint=endpoint, p256dh=self.p256dh, auth=self.auth)


def vapid_claims(authorization: str, audience: str, public_key: str = "") -> dict:
    """Checks `vapid t=<JWT>, k=<key>` as a push service does and returns the token's claims."""
    scheme, _, rest = authorization.partition(" ")
    fields = dict(part.strip().split("=", 1) for part in rest.split(","))
    assert scheme == "vapid"
    header, claims, signature = fields["t"].split(".")
    assert json.loads(unb64url(header)) == {"typ": "JWT", "alg": "ES256"}
    key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(fields["k"]))
    raw = unb64url(signature)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))  # raises when forged
    decoded = json.loads(unb64url(claims))
    assert decoded["aud"] == audience and fields["k"] == public_key
    return decoded


def test_the_push_service_verifies_the_token_and_the_browser_decrypts_the_message(httpserver):
    browser, seen = Browser(), {}
    ours = vapid_keys().public_key  # read here: the server's thread does not see the test's transaction

    def push_service(request):
        seen["claims"] = vapid_claims(request.headers["Authorization"], httpserver.url_for("").rstrip("/"), ours)
        seen["headers"] = dict(request.headers)
        seen["message"] = browser.read(request.get_data())
        return Response(status=201, headers={"Location": httpserver.url_for("/m/1")})

    httpserver.expect_oneshot_request("/push/abc", method="POST").respond_with_handler(push_service)
    message = {"title": "Spring sale", "body": "20% off until Sunday", "url": "https://acme.example/sale"}

    receipt = push_send(browser.target(httpserver.url_for("/push/abc")), message, ttl=3600)

    assert receipt.status == 201 and receipt.location.endswith("/m/1")
    assert seen["message"] == message
    assert seen["headers"]["Content-Encoding"] == "aes128gcm" and seen["headers"]["Ttl"] == "3600"
    assert seen["claims"]["sub"]


def test_a_token_checked_against_another_key_is_refused(httpserver):
    browser, outcome = Browser(), {}
    other = b64url(ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint))

    def push_service(request):
        token = request.headers["Authorization"].split("t=", 1)[1].split(",", 1)[0]
        try:
            vapid_claims(f"vapid t={token}, k={other}", httpserver.url_for("").rstrip("/"), other)
        except InvalidSignature:
            outcome["refused"] = True
        return Response(status=201)

    httpserver.expect_oneshot_request("/push/abc", method="POST").respond_with_handler(push_service)
    push_send(browser.target(httpserver.url_for("/push/abc")), {"title": "x"})
    assert outcome == {"refused": True}


def test_the_keys_are_made_once_and_kept_encrypted():
    first = vapid_keys()
    assert vapid_keys().public_key == first.public_key and VapidKeys.objects.count() == 1
    assert "PRIVATE KEY" not in VapidKeys.objects.get().private_key
    assert len(unb64url(first.public_key)) == 65  # an uncompressed P-256 point, as browsers expect


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_refused_as_gone(httpserver, status):
    httpserver.expect_oneshot_request("/push/abc", method="POST").respond_with_data("", status=status)

    with pytest.raises(ProviderRejected) as caught:
        push_send(Browser().target(httpserver.url_for("/push/abc")), {"title": "x"})

    assert caught.value.details == {"gone": True} and caught.value.status == status


def test_too_many_requests_says_when_to_come_back(httpserver):
    httpserver.expect_oneshot_request("/push/abc", method="POST").respond_with_data(
        "", status=429, headers={"Retry-After": "30"})

    with pytest.raises(RateLimited) as caught:
        push_send(Browser().target(httpserver.url_for("/push/abc")), {"title": "x"})

    assert caught.value.retry_after == 30.0


def test_a_server_error_is_unavailable(httpserver):
    httpserver.expect_oneshot_request("/push/abc", method="POST").respond_with_data("", status=503)

    with pytest.raises(ProviderUnavailable) as caught:
        push_send(Browser().target(httpserver.url_for("/push/abc")), {"title": "x"})

    assert not isinstance(caught.value, RateLimited) and caught.value.status == 503


def test_no_answer_in_time_leaves_the_outcome_unknown(answers_late):
    with pytest.raises(OutcomeUnknown):
        push_send(Browser().target(answers_late("/push/late")), {"title": "x"}, timeout=0.3)
