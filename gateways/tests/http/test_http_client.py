import socket
import threading
import time
from email.utils import formatdate

import pytest

from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited
from gateways.http import ProviderHttp, provider_message, retry_after_seconds


def client(**kwargs):
    return ProviderHttp(provider="primary", label="Acme", timeout=kwargs.pop("timeout", 5.0), **kwargs)


def test_success_returns_the_response_and_sends_timeouts_and_user_agent(httpserver):
    httpserver.expect_request("/ping", method="GET", headers={"User-Agent": "AICMO/0.1 (+https://github.com/aicmo)"}) \
        .respond_with_json({"ok": True})
    http = client()

    response = http.request("GET", httpserver.url_for("/ping"))

    assert response.json() == {"ok": True}
    assert http.timeout == (5.0, 5.0)


def test_connect_timeout_is_capped_while_the_read_timeout_is_the_accounts():
    assert client(timeout=60).timeout == (10.0, 60)


def test_429_with_retry_after_seconds_is_rate_limited(httpserver):
    httpserver.expect_request("/x").respond_with_json({"message": "slow down"}, status=429,
                                                      headers={"Retry-After": "17"})
    with pytest.raises(RateLimited) as caught:
        client().request("GET", httpserver.url_for("/x"))
    assert caught.value.retry_after == 17
    assert caught.value.status == 429
    assert caught.value.provider == "primary"
    assert "slow down" in caught.value.message


def test_retry_after_as_http_date_is_read_as_seconds_from_now(httpserver):
    when = formatdate(time.time() + 120, usegmt=True)
    httpserver.expect_request("/x").respond_with_data("busy", status=429, headers={"Retry-After": when})
    with pytest.raises(RateLimited) as caught:
        client().request("GET", httpserver.url_for("/x"))
    assert 100 < caught.value.retry_after <= 120


def test_retry_after_falls_back_to_reset_headers_and_discord_bodies():
    import requests

    def answer(headers=None, body=b""):
        response = requests.Response()
        response.status_code = 429
        response.headers.update(headers or {})
        response._content = body
        return response

    assert retry_after_seconds(answer({"x-rate-limit-reset": "1000"}), now=900) == 100
    assert retry_after_seconds(answer({"X-RateLimit-Reset": "2026-01-01T00:01:00Z"}), now=1767225600) == 60
    assert retry_after_seconds(answer(body=b'{"message":"You are being rate limited.","retry_after":64.57}')) == 64.57
    assert retry_after_seconds(answer(body=b"nope")) is None


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_make_the_provider_unavailable(httpserver, status):
    httpserver.expect_request("/x").respond_with_json({"error": "boom"}, status=status)
    with pytest.raises(ProviderUnavailable) as caught:
        client().request("POST", httpserver.url_for("/x"), json={})
    assert not isinstance(caught.value, RateLimited | OutcomeUnknown)
    assert caught.value.status == status


def test_a_server_error_reads_retry_after_but_not_rate_window_resets(httpserver):
    httpserver.expect_oneshot_request("/a").respond_with_data("down", status=503, headers={"Retry-After": "120"})
    httpserver.expect_oneshot_request("/b").respond_with_data("down", status=503, headers={
        "X-RateLimit-Reset": "2099-01-01T00:00:00Z", "X-RateLimit-Remaining": "299"})
    errors = []
    for path in ("/a", "/b"):
        with pytest.raises(ProviderUnavailable) as caught:
            client().request("GET", httpserver.url_for(path))
        errors.append(caught.value.retry_after)
    assert errors == [120, None]


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_make_the_provider_unavailable_with_advice(httpserver, status):
    httpserver.expect_request("/x").respond_with_json({"error": "Invalid access credentials."}, status=status)
    with pytest.raises(ProviderUnavailable) as caught:
        client().request("GET", httpserver.url_for("/x"))
    assert caught.value.status == status
    assert caught.value.advice.startswith(f"Acme answers {status}: the credentials are wrong")
    assert "Provider accounts" in caught.value.advice


@pytest.mark.parametrize("body, said", [
    ({"error": "Validation failed: Text can't be blank"}, "Validation failed: Text can't be blank"),
    ({"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": "Invalid request"}}, "Invalid request"),
    ({"title": "Invalid Request", "detail": "Tweet text is too long", "status": 400}, "Tweet text is too long"),
])
def test_other_4xx_is_rejected_with_the_providers_message(httpserver, body, said):
    httpserver.expect_request("/x").respond_with_json(body, status=422)
    with pytest.raises(ProviderRejected) as caught:
        client().request("POST", httpserver.url_for("/x"), json={})
    assert caught.value.message == f"Acme answered 422: {said}"
    assert caught.value.status == 422


def test_plain_text_error_bodies_are_the_message():
    import requests

    response = requests.Response()
    response._content = b"invalid_payload\n"
    assert provider_message(response) == "invalid_payload"


def test_redirects_are_not_followed_by_default(httpserver):
    httpserver.expect_request("/old").respond_with_data("", status=301, headers={"Location": "https://example.com/new"})
    with pytest.raises(ProviderUnavailable) as caught:
        client().request("POST", httpserver.url_for("/old"), json={})
    assert caught.value.message == "Acme answered 301, a redirect to example.com"


@pytest.fixture
def slow_url(answers_late):
    return answers_late("/slow")


def test_read_timeout_on_a_read_is_unavailable(slow_url):
    with pytest.raises(ProviderUnavailable) as caught:
        client(timeout=0.2).request("GET", slow_url)
    assert not isinstance(caught.value, OutcomeUnknown)


def test_read_timeout_on_a_write_is_outcome_unknown(slow_url):
    with pytest.raises(OutcomeUnknown) as caught:
        client(timeout=0.2).request("POST", slow_url, json={"text": "hello"})
    assert "may have been received" in caught.value.message


def test_read_timeout_on_a_write_declared_idempotent_is_unavailable(slow_url):
    with pytest.raises(ProviderUnavailable) as caught:
        client(timeout=0.2).request("POST", slow_url, json={}, idempotent=True)
    assert not isinstance(caught.value, OutcomeUnknown)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_is_unavailable_even_for_a_write():
    with pytest.raises(ProviderUnavailable) as caught:
        client().request("POST", f"http://127.0.0.1:{_closed_port()}/x", json={})
    assert not isinstance(caught.value, OutcomeUnknown)
    assert caught.value.message == "Acme: could not connect to 127.0.0.1"


def test_connection_dropped_after_a_write_was_sent_is_outcome_unknown():
    """The server reads the whole request, then hangs up without answering."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def swallow():
        conn, _ = listener.accept()
        conn.recv(65536)
        conn.close()

    thread = threading.Thread(target=swallow)
    thread.start()
    try:
        with pytest.raises(OutcomeUnknown):
            client().request("POST", f"http://127.0.0.1:{listener.getsockname()[1]}/x", json={"text": "hi"})
    finally:
        thread.join(5)
        listener.close()


def test_only_http_urls_are_called():
    with pytest.raises(ProviderUnavailable, match="only http and https"):
        client().request("GET", "file:///etc/passwd")


class FrozenClock:
    """Time that moves only when the code under test sleeps."""

    def __init__(self):
        self.now = 1000.0
        self.waits = []

    def monotonic(self):
        return self.now

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.waits.append(seconds)
        self.now += seconds


def test_pacing_spaces_requests_of_one_client(httpserver, monkeypatch):
    clock = FrozenClock()
    monkeypatch.setattr("gateways.http.time", clock)
    httpserver.expect_request("/x").respond_with_json({})
    http = client(min_interval=0.2)

    for _ in range(3):
        http.request("GET", httpserver.url_for("/x"))

    assert clock.waits == [pytest.approx(0.2), pytest.approx(0.2)]


def test_environment_proxies_are_ignored(httpserver, monkeypatch):
    monkeypatch.setenv("HTTP_PROXY", "http://10.0.0.1:3128")
    httpserver.expect_request("/x").respond_with_json({"direct": True})
    assert client().request("GET", httpserver.url_for("/x")).json() == {"direct": True}


def test_a_followed_redirect_to_another_host_drops_every_credential_header(httpserver):
    httpserver.expect_oneshot_request("/start").respond_with_data(
        "", status=302, headers={"Location": f"http://127.0.0.1:{httpserver.port}/landing"})
    httpserver.expect_oneshot_request("/landing").respond_with_data("ok")
    http = client(secrets=["sk-live-4f9c2b7d1e8a"], headers={"x-api-key": "sk-live-4f9c2b7d1e8a", "X-Trace": "t"})

    http.request("GET", httpserver.url_for("/start"), follow_redirects=True)

    (first, _), (second, _) = httpserver.log
    assert first.headers["x-api-key"] == "sk-live-4f9c2b7d1e8a"
    assert "x-api-key" not in second.headers
    assert second.headers["X-Trace"] == "t"


def test_an_unreadable_answer_to_a_read_is_unavailable(httpserver):
    httpserver.expect_request("/x").respond_with_data("<html>login</html>", content_type="text/html")
    with pytest.raises(ProviderUnavailable, match="something other than the documented JSON") as caught:
        client().request_json("GET", httpserver.url_for("/x"))
    assert not isinstance(caught.value, OutcomeUnknown)


def test_an_unreadable_answer_to_a_write_is_an_unknown_outcome(httpserver):
    httpserver.expect_request("/x").respond_with_json(["not", "an", "object"])
    with pytest.raises(OutcomeUnknown):
        client().request_json("POST", httpserver.url_for("/x"), json={"text": "hi"})


def test_json_of_the_expected_shape_is_returned(httpserver):
    httpserver.expect_request("/x").respond_with_json([{"id": 1}])
    assert client().request_json("GET", httpserver.url_for("/x"), expect=list) == [{"id": 1}]
