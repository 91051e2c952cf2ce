"""Apollo (PROVIDERS.md §1) and Dropcontact verification (§2) replayed by pytest-httpserver, with
real ProviderAccount rows, so the CRM's pipeline runs through the real gateways chain."""

import json
from itertools import count

from werkzeug import Response

from gateways.capabilities import Capability
from gateways.services import account_create

API_KEY = "test-key-5c1d"
# What Apollo knows, by email; anyone else gets `null` (its documented "no match").
APOLLO_PEOPLE = {
    "ann@acme.io": {"id": "p-ann", "first_name": "Ann", "last_name": "Lee", "title": "VP Marketing",
                    "email": "ann@acme.io", "email_status": "verified", "city": "Lyon", "country": "France",
                    "organization": {"name": "Acme", "primary_domain": "acme.io"},
                    "contact": {"sanitized_phone": "+33123456789"}},
    "bob@acme.io": {"id": "p-bob", "first_name": "Bob", "title": "Engineer", "email": "bob@acme.io",
                    "organization": {"name": "Acme", "primary_domain": "acme.io"}},
}
# Dropcontact's qualification per address; anyone else is "nominative@pro".
QUALIFICATIONS = {"dead@acme.io": "invalid@pro"}


class ProviderReplay:
    def __init__(self, httpserver):
        self.server = httpserver
        self.apollo_calls = 0
        self.dropcontact_batches: dict[str, list] = {}
        self._ids = count(1)
        httpserver.expect_request("/down/people/match").respond_with_data("upstream error", status=503)
        httpserver.expect_request("/down/people/bulk_match").respond_with_data("upstream error", status=503)
        httpserver.expect_request("/apollo/people/match", method="POST").respond_with_handler(self._match)
        httpserver.expect_request("/apollo/people/bulk_match", method="POST").respond_with_handler(self._bulk)
        httpserver.expect_request("/dc/v1/enrich/all", method="POST").respond_with_handler(self._submit)
        for request_id in range(1, 50):
            httpserver.expect_request(f"/dc/v1/enrich/all/r{request_id}").respond_with_handler(self._poll)

    def _check_key(self, request):
        return request.headers.get("x-api-key") == API_KEY

    def _json(self, body, status=200):
        return Response(json.dumps(body), status=status, content_type="application/json")

    def _match(self, request):
        if not self._check_key(request):
            return self._json({"error": "Invalid access credentials."}, 401)
        self.apollo_calls += 1
        return self._json({"person": APOLLO_PEOPLE.get(request.get_json().get("email"))})

    def _bulk(self, request):
        if not self._check_key(request):
            return self._json({"error": "Invalid access credentials."}, 401)
        self.apollo_calls += 1
        matches = [APOLLO_PEOPLE.get(detail.get("email")) for detail in request.get_json()["details"]]
        return self._json({"status": "success", "total_requested_enrichments": len(matches),
                           "unique_enriched_records": sum(1 for m in matches if m),
                           "missing_records": sum(1 for m in matches if not m), "matches": matches})

    def _submit(self, request):
        request_id = f"r{next(self._ids)}"
        self.dropcontact_batches[request_id] = request.get_json()["data"]
        return self._json({"credits_left": 100, "request_id": request_id, "error": False, "success": True})

    def _poll(self, request):
        records = self.dropcontact_batches[request.path.rsplit("/", 1)[-1]]
        data = [{"email": [{"email": r["email"], "qualification": QUALIFICATIONS.get(r["email"], "nominative@pro")}],
                 "custom_fields": r["custom_fields"]} for r in records]
        return self._json({"success": True, "error": False, "credits_left": 99, "data": data})


def providers_set_up(httpserver, *, apollo_down_first: bool = True, verification: bool = True) -> ProviderReplay:
    replay = ProviderReplay(httpserver)
    if apollo_down_first:
        account_create(capability=Capability.LEAD_ENRICHMENT, adapter="apollo", name="apollo-eu", priority=10,
                       base_url=httpserver.url_for("/down"), credentials={"api_key": API_KEY}, timeout_seconds=2)
    account_create(capability=Capability.LEAD_ENRICHMENT, adapter="apollo", name="apollo", priority=20,
                   base_url=httpserver.url_for("/apollo"), credentials={"api_key": API_KEY}, timeout_seconds=2)
    if verification:
        account_create(capability=Capability.EMAIL_VERIFICATION, adapter="dropcontact_verification",
                       name="dropcontact", base_url=httpserver.url_for("/dc"), credentials={"api_key": API_KEY},
                       settings={"poll_interval_seconds": 0.01, "poll_deadline_seconds": 5}, timeout_seconds=2)
    return replay
