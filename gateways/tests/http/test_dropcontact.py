import pytest

from gateways.adapters.dropcontact import (
    DropcontactEnrichmentAdapter,
    DropcontactVerificationAdapter,
    qualification_status,
)
from gateways.capabilities import PersonQuery
from gateways.errors import ProviderRejected, ProviderUnavailable, RateLimited

from .conftest import API_KEY

HEADERS = {"X-Access-Token": API_KEY, "Content-Type": "application/json"}
NOT_READY = {"success": False, "reason": "Request not ready yet, try again in 30 seconds"}
FAST = {"poll_interval_seconds": 0, "poll_deadline_seconds": 5}
DENIS = {"civility": "Mr", "first_name": "Denis", "last_name": "Cohen", "full_name": "Denis Cohen",
         "email": [{"email": "denis.cohen@dropcontact.io", "qualification": "nominative@pro"}],
         "linkedin": "www.linkedin.com/in/denis", "company": "Dropcontact", "website": "www.dropcontact.com",
         "custom_fields": {"aicmo_ref": "42"}}


@pytest.fixture
def enrichment(make_adapter):
    return make_adapter(DropcontactEnrichmentAdapter, credentials={"api_key": API_KEY}, settings=FAST)


def submitted(httpserver, data, request_id="qzmxkpvlrtdnhwa"):
    httpserver.expect_ordered_request("/v1/enrich/all", method="POST", headers=HEADERS,
                                      json={"data": data, "siren": False, "language": "en"}) \
        .respond_with_json({"credits_left": 15277, "request_id": request_id, "error": False, "success": True})


def test_batch_is_submitted_then_polled_until_ready_and_matched_by_custom_fields(enrichment, httpserver):
    people = [PersonQuery(ref="42", first_name="Denis", last_name="Cohen", company="Dropcontact",
                          domain="dropcontact.com"),
              PersonQuery(ref="43", first_name="Nobody"),  # nothing to search with: not sent
              PersonQuery(ref="44", email="ghost@example.com")]
    submitted(httpserver, [
        {"first_name": "Denis", "last_name": "Cohen", "company": "Dropcontact", "website": "dropcontact.com",
         "custom_fields": {"aicmo_ref": "42"}},
        {"email": "ghost@example.com", "custom_fields": {"aicmo_ref": "44"}},
    ])
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa", method="GET", headers=HEADERS) \
        .respond_with_json(NOT_READY)
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa", method="GET") \
        .respond_with_json({"success": True, "error": False, "credits_left": 15276, "data": [
            {"custom_fields": {"aicmo_ref": "44"}, "email": []}, DENIS]})

    denis, nobody, ghost = enrichment.enrich(people)

    assert denis.ref == "42"
    assert denis.email_status == "valid"
    assert denis.fields == {"first_name": "Denis", "last_name": "Cohen", "linkedin_url": "www.linkedin.com/in/denis",
                            "email": "denis.cohen@dropcontact.io", "company_name": "Dropcontact",
                            "company_domain": "www.dropcontact.com"}
    assert nobody is None
    assert ghost is None


def test_polling_slows_down_when_rate_limited_instead_of_giving_up_a_paid_batch(enrichment, httpserver, monkeypatch):
    waits = []
    monkeypatch.setattr("gateways.adapters.dropcontact.time.sleep", waits.append)
    submitted(httpserver, [{"email": "denis@dropcontact.io", "custom_fields": {"aicmo_ref": "42"}}])
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa").respond_with_json(
        {"detail": "Too Many Requests"}, status=429, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa").respond_with_json(
        {"success": True, "data": [DENIS]})

    [denis] = enrichment.enrich([PersonQuery(ref="42", email="denis@dropcontact.io")])

    assert denis.fields["first_name"] == "Denis"
    assert waits[0] == 0 and waits[1] == pytest.approx(2, abs=0.1)


def test_not_ready_past_the_deadline_takes_forced_results(make_adapter, httpserver):
    adapter = make_adapter(DropcontactEnrichmentAdapter, credentials={"api_key": API_KEY},
                           settings={"poll_interval_seconds": 0, "poll_deadline_seconds": 0})
    submitted(httpserver, [{"email": "denis@dropcontact.io", "custom_fields": {"aicmo_ref": "42"}}])
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa", query_string="forceResults=true") \
        .respond_with_json({"success": True, "data": [DENIS]})

    [denis] = adapter.enrich([PersonQuery(ref="42", email="denis@dropcontact.io")])

    assert denis.fields["last_name"] == "Cohen"


def test_still_not_ready_after_the_deadline_is_unavailable(make_adapter, httpserver):
    adapter = make_adapter(DropcontactEnrichmentAdapter, credentials={"api_key": API_KEY},
                           settings={"poll_interval_seconds": 0, "poll_deadline_seconds": 0})
    submitted(httpserver, [{"email": "denis@dropcontact.io", "custom_fields": {"aicmo_ref": "42"}}])
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa").respond_with_json(NOT_READY)

    with pytest.raises(ProviderUnavailable, match="not ready before the deadline"):
        adapter.enrich([PersonQuery(ref="42", email="denis@dropcontact.io")])


def test_verification_reads_each_address_qualification(make_adapter, httpserver):
    adapter = make_adapter(DropcontactVerificationAdapter, credentials={"api_key": API_KEY}, settings=FAST)
    emails = ["denis.cohen@dropcontact.io", "info@acme.test", "x@nowhere.invalid", "lost@example.com"]
    submitted(httpserver, [{"email": e, "custom_fields": {"aicmo_ref": str(n)}} for n, e in enumerate(emails)])
    httpserver.expect_ordered_request("/v1/enrich/all/qzmxkpvlrtdnhwa").respond_with_json({"success": True, "data": [
        {"email": [{"email": "info@acme.test", "qualification": "catch-all@pro"}], "custom_fields": {"aicmo_ref": "1"}},
        {"email": [{"email": "denis.cohen@dropcontact.io", "qualification": "nominative@pro"}],
         "custom_fields": {"aicmo_ref": "0"}},
        {"email": [{"email": "x@nowhere.invalid", "qualification": "invalid@invalid domain"}],
         "custom_fields": {"aicmo_ref": "2"}},
    ]})

    verdicts = adapter.verify(emails)

    assert [(v.email, v.status) for v in verdicts] == [
        ("denis.cohen@dropcontact.io", "valid"), ("info@acme.test", "risky"), ("x@nowhere.invalid", "invalid"),
        ("lost@example.com", "unknown"),
    ]
    assert verdicts[1].detail == "catch-all@pro"


@pytest.mark.parametrize("qualification, status", [
    ("nominative@pro", "valid"), ("nominative@perso", "valid"), ("Nominative@School", "valid"),
    ("catch-all@pro", "risky"), ("catch_all@pro", "risky"), ("generic@pro", "risky"), ("random@pro", "risky"),
    ("non_validated@pro", "risky"), ("invalid@pro", "invalid"), ("nominative@invalid domain", "invalid"),
    ("nominative@disposable", "invalid"), ("Do_Not_Contact@pro", "invalid"), ("nominatif@pro", "valid"),
    ("", "unknown"), ("something new", "unknown"),
])
def test_qualification_is_read_leniently(qualification, status):
    assert qualification_status(qualification) == status


def test_submit_refusal_is_rejected_with_the_reason(enrichment, httpserver):
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_json(
        {"error": True, "reason": "Too many records, you can only submit up to 250 records", "success": False},
        status=400)
    with pytest.raises(ProviderRejected, match="up to 250 records"):
        enrichment.enrich([PersonQuery(ref="1", email="a@b.test")])


def test_no_credits_is_unavailable_with_advice(enrichment, httpserver):
    httpserver.expect_request("/v1/enrich/all", method="POST").respond_with_json(
        {"error": True, "reason": "Not enough credits", "success": False}, status=403)
    with pytest.raises(ProviderUnavailable) as caught:
        enrichment.enrich([PersonQuery(ref="1", email="a@b.test")])
    assert "credits cannot cover the batch" in caught.value.advice


def test_too_fast_is_rate_limited(enrichment, httpserver):
    httpserver.expect_request("/v1/enrich/all").respond_with_json({"detail": "Too Many Requests"}, status=429,
                                                                  headers={"Retry-After": "1"})
    with pytest.raises(RateLimited):
        enrichment.enrich([PersonQuery(ref="1", email="a@b.test")])


def test_more_than_250_records_go_in_several_batches(enrichment, httpserver):
    people = [PersonQuery(ref=str(n), email=f"p{n}@example.com") for n in range(251)]
    submitted(httpserver, [{"email": f"p{n}@example.com", "custom_fields": {"aicmo_ref": str(n)}} for n in range(250)],
              request_id="first")
    httpserver.expect_ordered_request("/v1/enrich/all/first").respond_with_json({"success": True, "data": []})
    submitted(httpserver, [{"email": "p250@example.com", "custom_fields": {"aicmo_ref": "250"}}], request_id="second")
    httpserver.expect_ordered_request("/v1/enrich/all/second").respond_with_json({"success": True, "data": [
        {**DENIS, "custom_fields": {"aicmo_ref": "250"}}]})

    results = enrichment.enrich(people)

    assert [r.ref for r in results if r] == ["250"]


def test_probe_reads_the_credits(enrichment, httpserver):
    httpserver.expect_request("/v1/account/credits", method="GET", headers=HEADERS).respond_with_json({"credits": 1234})
    assert enrichment.probe().detail == "1234 credits left"
