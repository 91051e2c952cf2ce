import pytest

from gateways.adapters.airtable import AirtableSyncAdapter
from gateways.capabilities import SyncRecord
from gateways.errors import ProviderUnavailable, RateLimited

from .conftest import API_KEY

HEADERS = {"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"}
PATH = "/appX1/Marketing contacts"  # the server matches the decoded path


@pytest.fixture
def airtable(make_adapter):
    return make_adapter(AirtableSyncAdapter, credentials={"token": API_KEY},
                        settings={"base_id": "appX1", "table": "Marketing contacts", "merge_field": "Email"})


def upsert_body(keys):
    return {"records": [{"fields": {"Name": k.split("@")[0], "Email": k}} for k in keys],
            "performUpsert": {"fieldsToMergeOn": ["Email"]}}


def records(count):
    return [SyncRecord(key=f"p{n}@example.com", fields={"Name": f"p{n}"}) for n in range(count)]


def test_upsert_sends_batches_of_ten_merged_on_the_field_and_paced(airtable, httpserver, monkeypatch):
    waits = []
    monkeypatch.setattr("gateways.http.time.sleep", waits.append)
    keys = [r.key for r in records(23)]
    for start, created, updated in ((0, 7, 3), (10, 10, 0), (20, 1, 2)):
        batch = keys[start:start + 10]
        httpserver.expect_ordered_request(PATH, method="PATCH", headers=HEADERS, json=upsert_body(batch)) \
            .respond_with_json({"records": [{"id": f"rec{n}", "createdTime": "2024-01-01T00:00:00.000Z", "fields": {}}
                                            for n in range(len(batch))],
                                "createdRecords": [f"rec{n}" for n in range(created)],
                                "updatedRecords": [f"rec{n}" for n in range(updated)]})

    result = airtable.upsert(records(23))

    assert (result.created, result.updated, result.failed) == (18, 5, [])
    assert len(waits) == 2  # before the second and third requests, no faster than 5 a second
    assert all(0 < w <= 0.2 for w in waits)


def test_a_refused_batch_is_reported_per_key_and_the_rest_still_go(airtable, httpserver):
    keys = [r.key for r in records(12)]
    httpserver.expect_ordered_request(PATH, method="PATCH", json=upsert_body(keys[:10])).respond_with_json(
        {"error": {"type": "INVALID_VALUE_FOR_COLUMN", "message": "Field \"Email\" cannot accept the provided value"}},
        status=422)
    httpserver.expect_ordered_request(PATH, method="PATCH", json=upsert_body(keys[10:])).respond_with_json(
        {"records": [], "createdRecords": ["recA", "recB"], "updatedRecords": []})

    result = airtable.upsert(records(12))

    assert (result.created, result.updated) == (2, 0)
    assert [key for key, _ in result.failed] == keys[:10]
    assert result.failed[0][1] == 'Airtable answered 422: Field "Email" cannot accept the provided value'


def test_wrong_token_is_unavailable_with_advice(airtable, httpserver):
    httpserver.expect_request(PATH).respond_with_json(
        {"error": {"type": "AUTHENTICATION_REQUIRED", "message": "Authentication required"}}, status=401)
    with pytest.raises(ProviderUnavailable) as caught:
        airtable.upsert(records(1))
    assert caught.value.message == "Airtable answered 401: Authentication required"
    assert "personal access token" in caught.value.advice


def test_over_the_limit_is_rate_limited(airtable, httpserver):
    httpserver.expect_request(PATH).respond_with_json(
        {"error": {"type": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}}, status=429,
        headers={"Retry-After": "30"})
    with pytest.raises(RateLimited) as caught:
        airtable.upsert(records(1))
    assert caught.value.retry_after == 30


def test_probe_lists_one_record(airtable, httpserver):
    httpserver.expect_request(PATH, method="GET", headers=HEADERS, query_string="pageSize=1").respond_with_json(
        {"records": [{"id": "recA", "createdTime": "2024-01-01T00:00:00.000Z", "fields": {"Name": "x"}}]})
    assert airtable.probe().detail == "table Marketing contacts readable"


def test_missing_base_is_unavailable_without_calling(make_adapter, httpserver):
    adapter = make_adapter(AirtableSyncAdapter, credentials={"token": API_KEY}, settings={"table": "T"})
    with pytest.raises(ProviderUnavailable, match="base_id is not set"):
        adapter.upsert(records(1))
