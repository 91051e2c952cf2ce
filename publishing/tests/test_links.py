"""The link checker against loopback servers: working, redirected, broken, slow, redirected to an internal
address (refused by the gateways' guard), and many links at once."""

import re
import threading
import time

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from publishing import links
from publishing.tests.factories import ChannelVersionFactory, ContentFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_cache():
    from django.core.cache import cache

    cache.clear()


def test_content_links_come_from_the_content_and_its_versions_once_each():
    content = ContentFactory(
        link_url="https://example.org/signup",
        summary="",
        body="Read [the notes](https://example.org/notes). See https://example.org/signup.",
    )
    ChannelVersionFactory(
        content=content, kind="mastodon", body="New: https://example.org/notes, and https://b.example/x!"
    )
    assert links.content_links(content) == [
        "https://example.org/signup",
        "https://example.org/notes",
        "https://b.example/x",
    ]


def test_a_working_link_passes_and_a_missing_page_is_broken(httpserver):
    httpserver.expect_request("/ok", method="HEAD").respond_with_data("", status=200)
    httpserver.expect_request("/gone", method="HEAD").respond_with_data("", status=404)
    ok, gone = links.links_check([httpserver.url_for("/ok"), httpserver.url_for("/gone")])
    assert ok.ok and ok.status == 200 and not ok.redirected
    assert not gone.ok and gone.status == 404 and gone.error == "answered 404"


def test_head_refused_falls_back_to_get(httpserver):
    httpserver.expect_request("/page", method="HEAD").respond_with_data("", status=405)
    httpserver.expect_request("/page", method="GET").respond_with_data("<html>hello</html>", status=200)
    [result] = links.links_check([httpserver.url_for("/page")])
    assert result.ok and result.status == 200
    assert [request.method for request, _ in httpserver.log] == ["HEAD", "GET"]


def test_a_redirect_chain_is_followed_to_the_end_and_reported(httpserver):
    for step, to in (("/a", "/b"), ("/b", "/c")):
        httpserver.expect_request(step).respond_with_response(Response(status=301, headers={"Location": to}))
    httpserver.expect_request("/c").respond_with_data("", status=200)
    [result] = links.links_check([httpserver.url_for("/a")])
    assert result.ok and result.redirected and result.final_url == httpserver.url_for("/c")


def test_a_redirect_to_an_internal_address_is_refused(httpserver, settings):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    settings.GATEWAYS_ALLOWED_ENDPOINTS = [f"localhost:{httpserver.port}", f"127.0.0.1:{httpserver.port}"]
    httpserver.expect_request("/out").respond_with_response(
        Response(status=302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    )
    [result] = links.links_check([httpserver.url_for("/out")])
    assert not result.ok and "refused to call" in result.error and "cloud metadata" in result.error


def test_a_link_that_does_not_answer_in_time_is_broken(httpserver):
    def slow(request):
        time.sleep(1.5)
        return Response("", status=200)

    httpserver.expect_request("/slow").respond_with_handler(slow)
    [result] = links.links_check([httpserver.url_for("/slow")], timeout=0.3)
    assert not result.ok and result.status is None and "in time" in result.error


def test_answers_are_cached_so_a_link_is_fetched_once_a_day(httpserver):
    httpserver.expect_request("/ok").respond_with_data("", status=200)
    links.links_check([httpserver.url_for("/ok")])
    [again] = links.links_check([httpserver.url_for("/ok")])
    assert again.ok and len(httpserver.log) == 1


def test_many_links_are_checked_concurrently_with_a_per_site_limit():
    server = HTTPServer(threaded=True)
    server.start()
    lock, state = threading.Lock(), {"now": 0, "most": 0}

    def answer(request):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.02)  # long enough for requests to overlap when they are concurrent
        with lock:
            state["now"] -= 1
        return Response("", status=200)

    try:
        server.expect_request("/ok").respond_with_handler(answer)
        # One site by two names: "localhost" and "127.0.0.1" are two hosts to the per-site limit.
        urls = [server.url_for(f"/ok?n={n}") for n in range(100)]
        urls += [f"http://127.0.0.1:{server.port}/ok?n={n}" for n in range(100)]
        results = links.links_check(urls)
    finally:
        server.clear()
        server.stop()
    assert len(results) == 200 and all(result.ok for result in results)
    assert 1 < state["most"] <= 2 * links.PER_SITE


def test_submitting_asks_a_worker_and_the_check_says_not_checked_yet(make_user, django_capture_on_commit_callbacks):
    from publishing import checks
    from publishing.models import LinkReport
    from publishing.services import content_submit

    author = make_user("writer", role="Marketer")
    content = ContentFactory(author=author, body="See https://example.org/notes.", link_url="")
    with django_capture_on_commit_callbacks() as queued:
        content_submit(content=content, by=author)
    assert len(queued) == 1 and LinkReport.objects.get(content=content).status == LinkReport.Status.PENDING
    content.refresh_from_db()
    result = checks.links_report_check(content, list(content.versions.all()))
    assert result.outcome == checks.WARN and result.reason == "Not checked yet (1 of 1 links)."


def test_the_stored_check_names_broken_links_and_redirects(httpserver):
    from publishing import checks
    from publishing.services import content_links_check_run

    httpserver.expect_request("/ok").respond_with_data("", status=200)
    httpserver.expect_request("/old").respond_with_response(Response(status=301, headers={"Location": "/ok"}))
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    ok, old, gone = (httpserver.url_for(path) for path in ("/ok", "/old", "/gone"))
    content = ContentFactory(link_url=ok, body=f"Moved: {old}")
    content_links_check_run(content_id=content.pk)
    content.refresh_from_db()
    result = checks.links_report_check(content, [])
    assert result.outcome == checks.PASS and result.reason == f"All 2 links work. Redirected: {old} → {ok}."

    ChannelVersionFactory(content=content, kind="mastodon", body=f"Read {gone}")
    assert checks.links_report_check(content, list(content.versions.all())).outcome == checks.WARN
    content_links_check_run(content_id=content.pk)
    content.refresh_from_db()
    broken = checks.links_report_check(content, list(content.versions.all()))
    assert broken.outcome == checks.FAIL and broken.reason == f"1 broken: {gone} (answered 404)."


def test_the_content_page_checks_links_on_demand(client, make_user, django_capture_on_commit_callbacks):
    from django.urls import reverse

    from publishing.models import LinkReport

    content = ContentFactory(body="See https://example.org/notes.", link_url="")
    client.force_login(make_user("writer", role="Marketer"))
    page = client.get(content.get_absolute_url()).content.decode()
    assert "Check links" in page and "Not checked yet (1 of 1 links)." in page
    with django_capture_on_commit_callbacks() as queued:
        response = client.post(reverse("publishing:content-check-links", args=[content.pk]))
    assert response.status_code == 302 and len(queued) == 1
    assert LinkReport.objects.get(content=content).status == LinkReport.Status.PENDING

    client.force_login(make_user("reader", role="Analyst"))
    assert client.post(reverse("publishing:content-check-links", args=[content.pk])).status_code == 403


def test_500_links_on_five_hosts_are_all_reported_in_order_within_each_hosts_limit():
    """The bench's shape (bench/publishing_links.py) for correctness only: every link reported, in the
    order given, with its outcome, and never more than PER_SITE requests at once on any one host."""
    hosts = ["127.0.0.1", "127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]
    servers, busiest = [], {}
    lock = threading.Lock()

    def handler_for(host):
        state = {"now": 0}
        busiest[host] = 0

        def answer(request):
            with lock:
                state["now"] += 1
                busiest[host] = max(busiest[host], state["now"])
            time.sleep(0.01)
            with lock:
                state["now"] -= 1
            kind = request.path.strip("/").split("/")[0]
            if kind == "gone":
                return Response("", status=404)
            if kind == "moved":
                return Response(status=301, headers={"Location": "/ok/after-move"})
            return Response("", status=200)

        return answer

    try:
        for host in hosts:
            server = HTTPServer(host=host, threaded=True)
            server.start()
            server.expect_request(re.compile(r"/.*")).respond_with_handler(handler_for(host))
            servers.append(server)
        kinds = ("ok", "ok", "gone", "moved")
        urls = [f"http://{hosts[n % 5]}:{servers[n % 5].port}/{kinds[n // 5 % 4]}/{n}" for n in range(500)]
        content = ContentFactory(link_url="", summary="", body="\n".join(f"- <{url}>" for url in urls))
        assert links.content_links(content, versions=[]) == urls
        results = links.links_check(urls, use_cache=False)
    finally:
        for server in servers:
            server.clear()
            server.stop()

    assert [result.url for result in results] == urls
    outcomes = {kind: [r for r, url in zip(results, urls, strict=True) if f"/{kind}/" in url] for kind in kinds}
    assert len(outcomes["ok"]) == 250 and all(r.ok and not r.redirected for r in outcomes["ok"])
    assert len(outcomes["gone"]) == 125 and all(not r.ok and r.status == 404 for r in outcomes["gone"])
    assert len(outcomes["moved"]) == 125 and all(r.ok and r.final_url.endswith("/ok/after-move")
                                                 for r in outcomes["moved"])
    assert all(1 <= most <= links.PER_SITE for most in busiest.values()), busiest
    assert max(busiest.values()) > 1  # they did run at once
