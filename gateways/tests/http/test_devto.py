import pytest

from gateways.adapters.devto import DevtoMetricsAdapter, DevtoPostingAdapter, devto_tags
from gateways.capabilities import ChannelPost
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited

from .conftest import API_KEY

HEADERS = {"api-key": API_KEY, "Content-Type": "application/json", "Accept": "application/vnd.forem.api-v1+json"}
CREATED = {"type_of": "article", "id": 1544, "title": "Hello", "slug": "hello-39d8", "path": "/user/hello-39d8",
           "url": "https://dev.to/user/hello-39d8", "published": True, "tags": ["python", "django"]}


@pytest.fixture
def devto(make_adapter):
    return make_adapter(DevtoPostingAdapter, credentials={"api_key": API_KEY})


def hello(**extra):
    return ChannelPost(idempotency_key="job-7", text="Short summary", title="Hello", body_markdown="# Hi",
                       tags=["Python", "django", "web-dev", "launch", "extra"], canonical_url="https://example.com/hello",
                       media_urls=["https://example.com/cover.png"], extra=extra)


def test_article_is_created_wrapped_with_at_most_four_tags(devto, httpserver):
    httpserver.expect_oneshot_request("/api/articles", method="POST", headers=HEADERS, json={"article": {
        "title": "Hello", "body_markdown": "# Hi", "published": True, "tags": ["python", "django", "webdev", "launch"],
        "canonical_url": "https://example.com/hello", "description": "Short summary",
        "main_image": "https://example.com/cover.png", "series": "Launch notes",
    }}).respond_with_json(CREATED, status=201, headers={"Location": "https://dev.to/user/hello-39d8"})

    published = devto.publish(hello(description="Short summary", series="Launch notes"))

    assert (published.status, published.external_id, published.url) == (
        "published", "1544", "https://dev.to/user/hello-39d8")


def test_an_account_set_to_drafts_posts_unpublished(make_adapter, httpserver):
    adapter = make_adapter(DevtoPostingAdapter, credentials={"api_key": API_KEY}, settings={"publish_as_draft": "yes"})
    httpserver.expect_oneshot_request("/api/articles", method="POST", json={"article": {
        "title": "Hello", "body_markdown": "# Hi", "published": False, "tags": ["python", "django", "webdev", "launch"],
        "canonical_url": "https://example.com/hello", "main_image": "https://example.com/cover.png",
    }}).respond_with_json({**CREATED, "published": False}, status=201)
    assert adapter.publish(hello()).status == "published"


def test_unwrapped_or_invalid_article_is_rejected(devto, httpserver):
    httpserver.expect_request("/api/articles").respond_with_json(
        {"error": "Title can't be blank", "status": 422}, status=422)
    with pytest.raises(ProviderRejected, match="Title can't be blank"):
        devto.publish(hello())


def test_wrong_key_is_unavailable(devto, httpserver):
    httpserver.expect_request("/api/articles").respond_with_json({"error": "unauthorized", "status": 401}, status=401)
    with pytest.raises(ProviderUnavailable) as caught:
        devto.publish(hello())
    assert caught.value.advice.startswith("Dev.to answers 401: the API key is wrong")


def test_too_fast_is_rate_limited(devto, httpserver):
    httpserver.expect_request("/api/articles").respond_with_data("Retry later", status=429,
                                                                 headers={"Retry-After": "1"})
    with pytest.raises(RateLimited) as caught:
        devto.publish(hello())
    assert caught.value.retry_after == 1


def test_no_answer_to_a_create_is_an_unknown_outcome(make_adapter, answers_late):
    answers_late("/api/articles")
    adapter = make_adapter(DevtoPostingAdapter, credentials={"api_key": API_KEY}, timeout=0.2)
    with pytest.raises(OutcomeUnknown):
        adapter.publish(hello())


def test_lookup_finds_an_earlier_article_by_canonical_url(devto, httpserver):
    httpserver.expect_request("/api/articles/me/all", headers=HEADERS, query_string="page=1&per_page=1000") \
        .respond_with_json([{"id": 9, "title": "Hello", "canonical_url": "https://example.com/other", "url": "u9"},
                            {"id": 1544, "title": "Hello", "canonical_url": "https://example.com/hello",
                             "url": "https://dev.to/user/hello-39d8"}])
    found = devto.lookup(hello())
    assert (found.external_id, found.url) == ("1544", "https://dev.to/user/hello-39d8")


def test_lookup_without_canonical_url_matches_the_title_and_may_find_nothing(devto, httpserver):
    httpserver.expect_request("/api/articles/me/all").respond_with_json([{"id": 9, "title": "Other"}])
    post = ChannelPost(idempotency_key="job-8", text="x", title="Hello")
    assert devto.lookup(post) is None


def test_metrics_come_from_my_articles(make_adapter, httpserver):
    adapter = make_adapter(DevtoMetricsAdapter, credentials={"api_key": API_KEY})
    httpserver.expect_request("/api/articles/me/all", headers=HEADERS).respond_with_json([
        {"id": 1544, "page_views_count": 120, "public_reactions_count": 7, "comments_count": 2},
        {"id": 12, "page_views_count": 5, "public_reactions_count": 0, "comments_count": 0},
    ])

    [metrics] = adapter.fetch(["1544", "999"])

    assert (metrics.external_id, metrics.impressions, metrics.reactions, metrics.comments) == ("1544", 120, 7, 2)


def test_probe_reads_one_of_my_articles(devto, httpserver):
    httpserver.expect_request("/api/articles/me", headers=HEADERS, query_string="per_page=1").respond_with_json([])
    assert devto.probe().ok


def test_tags_are_cleaned_deduplicated_and_cut_to_four():
    assert devto_tags(["C++", "c", "Web Dev", "webdev", "a", "b"]) == ["c", "webdev", "a", "b"]
