import pytest

from gateways.adapters.apollo import ApolloEnrichmentAdapter
from gateways.capabilities import PersonQuery
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited

from .conftest import API_KEY

HEADERS = {"x-api-key": API_KEY, "Content-Type": "application/json"}
TIM = {
    "id": "64a7ff0cc4dfae00013df1a5", "first_name": "Tim", "last_name": "Zheng", "name": "Tim Zheng",
    "title": "Founder & CEO", "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010",
    "email": "tim@apollo.io", "email_status": "verified", "city": "San Francisco", "state": "California",
    "country": "United States",
    "organization": {"id": "5e66b6381e05b4008c8331b8", "name": "Apollo.io", "primary_domain": "apollo.io",
                     "website_url": "http://www.apollo.io", "linkedin_url": "http://www.linkedin.com/company/apolloio"},
    "contact": {"sanitized_phone": "+11235550158",
                "phone_numbers": [{"raw_number": "(123) 555-0158", "sanitized_number": "+11235550158",
                                   "status": "valid_number"}]},
}
REVEAL = {"reveal_personal_emails": False, "reveal_phone_number": False}


@pytest.fixture
def apollo(make_adapter):
    return make_adapter(ApolloEnrichmentAdapter, credentials={"api_key": API_KEY})


def tim_query():
    return PersonQuery(ref="c-1", first_name="Tim", last_name="Zheng", company="Apollo", domain="apollo.io")


def test_one_person_is_matched_with_people_match(apollo, httpserver):
    httpserver.expect_oneshot_request("/people/match", method="POST", headers=HEADERS, json={
        "first_name": "Tim", "last_name": "Zheng", "organization_name": "Apollo", "domain": "apollo.io", **REVEAL,
    }).respond_with_json({"person": TIM})

    [person] = apollo.enrich([tim_query()])

    assert person.ref == "c-1"
    assert person.provider == "primary"
    assert person.email_status == "valid"
    assert person.fields == {
        "first_name": "Tim", "last_name": "Zheng", "job_title": "Founder & CEO",
        "linkedin_url": "http://www.linkedin.com/in/tim-zheng-677ba010", "email": "tim@apollo.io",
        "city": "San Francisco", "country": "United States", "company_name": "Apollo.io",
        "company_domain": "apollo.io", "phone": "+11235550158",
    }


def test_no_match_is_none(apollo, httpserver):
    httpserver.expect_oneshot_request("/people/match", method="POST").respond_with_json({"person": None})
    assert apollo.enrich([PersonQuery(ref="c-2", email="nobody@example.com")]) == [None]


def test_phones_are_also_read_from_the_person(apollo, httpserver):
    person = {"first_name": "Ana", "email_status": "guessed",
              "phone_numbers": [{"raw_number": "+33 1 23 45 67 89", "sanitized_number": "+33123456789"}]}
    httpserver.expect_oneshot_request("/people/match").respond_with_json({"person": person})

    [found] = apollo.enrich([PersonQuery(ref="c-3", email="ana@example.fr")])

    assert found.fields == {"first_name": "Ana", "phone": "+33123456789"}
    assert found.email_status == "risky"


def test_several_people_go_in_bulk_batches_of_ten_in_order(apollo, httpserver):
    queries = [PersonQuery(ref=f"c-{n}", email=f"p{n}@example.com") for n in range(12)]
    first_ten = {"details": [{"email": f"p{n}@example.com"} for n in range(10)], **REVEAL}
    httpserver.expect_ordered_request("/people/bulk_match", method="POST", headers=HEADERS, json=first_ten) \
        .respond_with_json({"status": "success", "matches": [TIM] + [None] * 9})
    httpserver.expect_ordered_request("/people/bulk_match", method="POST", json={
        "details": [{"email": "p10@example.com"}, {"email": "p11@example.com"}], **REVEAL,
    }).respond_with_json({"status": "success", "total_requested_enrichments": 2, "unique_enriched_records": 1,
                          "missing_records": 1, "credits_consumed": 1, "matches": [None, TIM]})

    results = apollo.enrich(queries)

    assert [r.ref if r else None for r in results] == ["c-0"] + [None] * 10 + ["c-11"]


def test_wrong_key_is_unavailable_with_advice(apollo, httpserver):
    httpserver.expect_request("/people/match").respond_with_json({"error": "Invalid access credentials."}, status=401)
    with pytest.raises(ProviderUnavailable) as caught:
        apollo.enrich([tim_query()])
    assert caught.value.advice == ("Apollo answers 401: the API key is wrong or revoked; "
                                   "update it in Provider accounts.")
    assert caught.value.message == "Apollo answered 401: Invalid access credentials."


def test_bad_input_is_rejected(apollo, httpserver):
    httpserver.expect_request("/people/match").respond_with_json({"error": "Invalid domain"}, status=422)
    with pytest.raises(ProviderRejected, match="Invalid domain"):
        apollo.enrich([tim_query()])


def test_over_the_limit_is_rate_limited(apollo, httpserver):
    httpserver.expect_request("/people/match").respond_with_json(
        {"error": "rate limit"}, status=429, headers={"x-minute-requests-left": "0", "Retry-After": "30"})
    with pytest.raises(RateLimited) as caught:
        apollo.enrich([tim_query()])
    assert caught.value.retry_after == 30


def test_probe_reads_usage_stats(apollo, httpserver):
    httpserver.expect_oneshot_request("/usage_stats/api_usage_stats", method="POST", headers=HEADERS) \
        .respond_with_json({
            '["api/v1/contacts", "search"]': {"minute": {"limit": 200, "consumed": 0, "left_over": 200}},
            '["api/v1/people", "match"]': {"day": {"limit": 600, "consumed": 10, "left_over": 590},
                                           "hour": {"limit": 200, "consumed": 4, "left_over": 196},
                                           "minute": {"limit": 50, "consumed": 1, "left_over": 49}},
        })
    result = apollo.probe()
    assert result.ok
    assert result.detail == ("API key accepted; people match: 49 of 50 left this minute, 196 of 200 left this hour, "
                             "590 of 600 left this day")


def test_probe_copes_with_usage_stats_it_does_not_recognise(apollo, httpserver):
    httpserver.expect_oneshot_request("/usage_stats/api_usage_stats").respond_with_json({"other": 1})
    assert apollo.probe().detail == "API key accepted; usage stats read"


def test_a_missing_key_is_unavailable_without_calling(make_adapter, httpserver):
    adapter = make_adapter(ApolloEnrichmentAdapter)
    with pytest.raises(ProviderUnavailable, match="api_key is not set"):
        adapter.enrich([tim_query()])
    assert httpserver.log == []
