"""The Airtable push through the real gateways chain and Airtable adapter, against a local server
replaying the upsert contract (PROVIDERS.md §3)."""

import json
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from werkzeug import Response

from aicmo_site.models import RunStatus
from crm.airtable_sync import airtable_sync_start, contacts_sync_airtable, recent_changes_since
from crm.data_tasks import airtable_sync, airtable_sync_run
from crm.models import Contact
from crm.tests.factories import CompanyFactory, ContactFactory, TagFactory
from gateways import services as gateways
from gateways.capabilities import Capability

pytestmark = pytest.mark.django_db
TABLE_PATH = "/v0/appBase123/Contacts"


@pytest.fixture
def airtable(httpserver):
    gateways.account_create(capability=Capability.CRM_SYNC, adapter="airtable", name="airtable",
                            base_url=httpserver.url_for("/v0"), settings={"base_id": "appBase123", "table": "Contacts"},
                            credentials={"token": "patSecret.123"})
    return httpserver


def upsert_answer(request):
    records = json.loads(request.data)["records"]
    created = [f"rec{n}" for n, record in enumerate(records) if not record["fields"]["Email"].startswith("old")]
    updated = [f"rec{n}" for n, record in enumerate(records) if record["fields"]["Email"].startswith("old")]
    return Response(json.dumps({"records": [{"id": f"rec{n}", "createdTime": "2026-01-01T00:00:00.000Z",
                                             "fields": r["fields"]} for n, r in enumerate(records)],
                                "createdRecords": created, "updatedRecords": updated}),
                    content_type="application/json")


def test_contacts_and_their_status_are_upserted_on_the_email(airtable):
    ContactFactory(email="new@acme.example", first_name="Ana", company=CompanyFactory(name="Acme"),
                   engagement_score=80, engagement_tier="high", tags=[TagFactory(name="vip")])
    ContactFactory(email="old@example.com", first_name="Bo")
    ContactFactory(email="gone@example.com", erased_at=timezone.now())
    expected = airtable.expect_oneshot_request(TABLE_PATH, method="PATCH",
                                               headers={"Authorization": "Bearer patSecret.123"})
    expected.respond_with_handler(upsert_answer)
    outcome = contacts_sync_airtable()
    airtable.check_assertions()
    body = json.loads(airtable.log[0][0].data)
    assert body["performUpsert"] == {"fieldsToMergeOn": ["Email"]}
    sent = {record["fields"]["Email"]: record["fields"] for record in body["records"]}
    assert set(sent) == {"new@acme.example", "old@example.com"}
    assert {k: sent["new@acme.example"][k] for k in ("First Name", "Company", "Lifecycle", "Email Status",
                                                      "Engagement Score", "Engagement Tier", "Tags")} == {
        "First Name": "Ana", "Company": "Acme", "Lifecycle": "New", "Email Status": "Unknown",
        "Engagement Score": 80, "Engagement Tier": "High", "Tags": "vip"}
    assert (outcome.contacts, outcome.created, outcome.updated, outcome.failed, outcome.error) == (2, 1, 1, [], "")


def test_a_batch_airtable_refuses_is_reported_per_contact(airtable):
    ContactFactory(email="a@example.com")
    airtable.expect_oneshot_request(TABLE_PATH, method="PATCH").respond_with_json(
        {"error": {"type": "INVALID_REQUEST_UNKNOWN", "message": "Invalid request"}}, status=422)
    outcome = contacts_sync_airtable()
    assert outcome.failed and outcome.failed[0][0] == "a@example.com" and outcome.created == 0


def test_the_scheduled_push_sends_only_recent_changes(airtable):
    ContactFactory(email="recent@example.com")
    stale = ContactFactory(email="stale@example.com")
    Contact.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=2))
    airtable.expect_oneshot_request(TABLE_PATH, method="PATCH").respond_with_handler(upsert_answer)
    result = airtable_sync()
    assert [r["fields"]["Email"] for r in json.loads(airtable.log[0][0].data)["records"]] == ["recent@example.com"]
    assert result["contacts"] == 1 and recent_changes_since() < timezone.now()


def test_with_only_a_placeholder_nothing_is_pushed_and_command_and_api_say_why(api_as):
    ContactFactory()
    gateways.account_create(capability=Capability.CRM_SYNC, adapter="noop_crm_sync", name="Demo: no CRM sync")

    outcome = contacts_sync_airtable()
    answer = api_as("Marketer").post("/api/exports/airtable/")

    assert outcome.skipped and outcome.contacts == 0 and "Demo: no CRM sync does nothing real" in outcome.error
    with pytest.raises(CommandError, match="Nothing pushed: No real CRM sync provider is configured"):
        call_command("sync_airtable")
    assert answer.status_code == 400 and answer.json()["code"] == "no_provider"
    assert answer.json()["extra"]["fix_url"] == "/providers/new/?capability=crm_sync"


def test_the_command_pushes_and_prints_a_summary(airtable, capsys):
    ContactFactory(email="new@example.com")
    airtable.expect_oneshot_request(TABLE_PATH, method="PATCH").respond_with_handler(upsert_answer)
    call_command("sync_airtable")
    assert "Pushed 1 contacts: 1 written to Airtable (1 created, 0 updated), 0 refused." in capsys.readouterr().out


def test_the_summary_counts_what_airtable_holds_even_when_it_does_not_say_which_were_new(airtable, capsys):
    """An upsert answered with its records but without createdRecords/updatedRecords printed "0 created,
    0 updated" after pushing every contact."""
    for n in range(25):
        ContactFactory(email=f"person{n}@example.com")

    def records_only(request):
        records = json.loads(request.data)["records"]
        return Response(json.dumps({"records": [{"id": f"rec{n}", "createdTime": "2026-01-01T00:00:00.000Z",
                                                 "fields": r["fields"]} for n, r in enumerate(records)]}),
                        content_type="application/json")

    airtable.expect_request(TABLE_PATH, method="PATCH").respond_with_handler(records_only)
    call_command("sync_airtable")
    assert len(airtable.log) == 3  # batches of 10
    assert ("Pushed 25 contacts: 25 written to Airtable (Airtable did not say which were new), 0 refused."
            in capsys.readouterr().out)


def test_the_api_answers_with_the_run_of_a_push_for_marketers_only(api_as, monkeypatch, airtable,
                                                                     django_capture_on_commit_callbacks):
    queued = []
    monkeypatch.setattr("aicmo_site.runs.async_task", lambda func, *args, **kw: queued.append((func, args, kw)))
    ContactFactory(email="recent@example.com")
    assert api_as("Analyst").post("/api/exports/airtable/").status_code == 403
    marketer = api_as("Marketer")
    with django_capture_on_commit_callbacks(execute=True):
        answer = marketer.post("/api/exports/airtable/", {"recent": True})
    run = answer.json()
    assert answer.status_code == 202 and "task_id" not in run
    assert {k: run[k] for k in ("kind", "status", "total", "progress", "requested_by")} == {
        "kind": "airtable_sync", "status": "queued", "total": 1, "progress": 0, "requested_by": marketer.user.username}
    assert run["url"].endswith(f"/api/runs/{run['id']}/")
    assert queued == [("crm.data_tasks.airtable_sync_run", (run["id"],), {"task_name": f"run-{run['id']}",
                                                                          "full": False})]


def test_a_push_that_airtable_refuses_is_a_failed_run_with_its_reason(airtable):
    ContactFactory(email="ann@example.com")
    airtable.expect_request(TABLE_PATH, method="PATCH").respond_with_json(
        {"error": {"type": "INVALID_PERMISSIONS"}}, status=403)
    run = airtable_sync_start(full=True)

    airtable_sync_run(run.pk, full=True)

    run.refresh_from_db()
    assert run.status == RunStatus.FAILED and run.error.startswith("The push to Airtable stopped:")
    assert run.result["contacts"] == 0
