"""A push a person asks for, end to end: the API answers with the run, a real qcluster works it through
the real gateways chain against Airtable's upsert contract replayed on loopback, and the run reports."""

import json

import pytest
from werkzeug import Response

from aicmo_site.models import BackgroundRun, RunStatus
from aicmo_site.testing.worker import wait_for
from crm.tests.factories import ContactFactory
from gateways import services as gateways
from gateways.capabilities import Capability


def upserted(request):
    records = json.loads(request.data)["records"]
    return Response(json.dumps({"records": [{"id": f"rec{n}", "createdTime": "2026-01-01T00:00:00.000Z",
                                             "fields": r["fields"]} for n, r in enumerate(records)],
                                "createdRecords": [f"rec{n}" for n in range(len(records))], "updatedRecords": []}),
                    content_type="application/json")


@pytest.mark.worker
def test_a_push_asked_through_the_api_runs_on_a_real_worker_and_reports(qcluster, httpserver, api_as):
    gateways.account_create(capability=Capability.CRM_SYNC, adapter="airtable", name="airtable",
                            base_url=httpserver.url_for("/v0"), settings={"base_id": "appBase123", "table": "Contacts"},
                            credentials={"token": "patSecret.123"})
    httpserver.expect_request("/v0/appBase123/Contacts", method="PATCH").respond_with_handler(upserted)
    for n in range(3):
        ContactFactory(email=f"person{n}@example.com")
    marketer = api_as("Marketer")

    answer = marketer.post("/api/exports/airtable/", {"recent": False}, format="json")
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    cluster = qcluster()

    run = wait_for(lambda: BackgroundRun.objects.filter(pk=answer.json()["id"], status__in=[
        RunStatus.COMPLETED, RunStatus.FAILED]).first(), timeout=60,
        message=f"the push to finish; worker said:\n{cluster.output()[-2000:]}")

    assert (run.status, run.error, run.done, run.total) == (RunStatus.COMPLETED, "", 3, 3)
    assert {k: run.result[k] for k in ("contacts", "created", "updated")} == {"contacts": 3, "created": 3, "updated": 0}
    assert sorted(r["fields"]["Email"] for r in json.loads(httpserver.log[0][0].data)["records"]) == [
        "person0@example.com", "person1@example.com", "person2@example.com"]
    shown = marketer.get(f"/api/runs/{run.pk}/").json()
    assert (shown["status"], shown["progress"], shown["requested_by"]) == ("completed", 100, marketer.user.username)
