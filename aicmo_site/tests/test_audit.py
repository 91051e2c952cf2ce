"""The audit log: each way of changing a contact leaves the right entry (page, admin, API with its token,
import, bulk action, journey step, command, worker), secrets never appear, and no interface changes or
deletes an entry."""

import json

import pytest
from auditlog.models import LogEntry
from django.core.files.base import ContentFile
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_q.models import Task
from django_q.tasks import async_task
from knox.models import AuthToken
from rest_framework.test import APIClient

from aicmo_site.audit import SECRET_SHOWN_AS, AuditSource, audit_quietly, audit_source
from aicmo_site.testing.worker import wait_for
from automation.services import journey_enrol, journeys_run_due
from automation.tests.factories import journey
from crm.airtable_sync import airtable_sync_start
from crm.data_tasks import airtable_sync, airtable_sync_run
from crm.imports import import_run_create, import_run_start
from crm.models import Contact, ImportRun, Topic
from crm.privacy import contact_erase
from crm.services import contact_update, enrichment_run_create, enrichment_run_process
from crm.tests.factories import ContactFactory
from crm.tests.providers import providers_set_up
from crm.tests.test_airtable import airtable, upsert_answer  # noqa: F401 (a fixture)
from gateways import services as gateway_services
from gateways.capabilities import Capability
from media.models import Asset
from media.tests.factories import AssetFactory
from webhooks.services import subscription_create

pytestmark = pytest.mark.django_db


def entries_of(obj):
    return list(LogEntry.objects.get_for_object(obj).order_by("pk"))


def operations():
    """Entries of one operation on many contacts (no object of their own)."""
    return list(LogEntry.objects.get_for_model(Contact).filter(object_pk="").order_by("pk"))


def test_a_change_on_a_back_office_page_names_the_person_the_page_and_the_fields(client, make_user):
    mia = make_user("mia", role="Marketer")
    ann = ContactFactory()
    client.force_login(mia)
    response = client.post(f"/contacts/{ann.pk}/transition/", {"to": "engaged", "reason": "Met at a fair"},
                           REMOTE_ADDR="203.0.113.9")
    assert response.status_code == 302
    entry = entries_of(ann)[-1]
    assert entry.actor == mia
    assert entry.changes_dict["lifecycle_status"] == ["new", "engaged"]
    assert entry.additional_data == {"source": "back_office", "source_detail": f"/contacts/{ann.pk}/transition/"}
    assert entry.remote_addr == "203.0.113.9"


def test_a_change_in_the_django_admin_is_logged_as_the_admins(client, make_user):
    root = make_user("root", is_staff=True, is_superuser=True)
    ann = ContactFactory(first_name="Ann", custom_fields={})
    client.force_login(root)
    response = client.post(f"/admin/crm/contact/{ann.pk}/change/", {
        "email": ann.email, "first_name": "Annie", "last_name": ann.last_name, "job_title": "", "phone": "",
        "company": "", "linkedin_url": "", "city": "", "country": "", "source": ann.source, "custom_fields": "{}",
        "_save": "Save"})
    assert response.status_code == 302, response.content[:2000]
    entry = entries_of(ann)[-1]
    assert (entry.actor, entry.changes_dict["first_name"]) == (root, ["Ann", "Annie"])
    assert entry.additional_data["source"] == AuditSource.ADMIN


def test_an_api_change_names_the_token_it_came_with(make_user):
    mia = make_user("mia", role="Marketer")
    token_row, token = AuthToken.objects.create(user=mia)
    ann = ContactFactory(city="Lyon")
    api = APIClient()
    api.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    response = api.patch(f"/api/contacts/{ann.pk}/", {"city": "Nantes"}, format="json")
    assert response.status_code == 200, response.content
    entry = entries_of(ann)[-1]
    assert entry.actor == mia
    assert entry.changes_dict["city"] == ["Lyon", "Nantes"]
    assert entry.additional_data == {"source": "api", "source_detail": f"token {token_row.token_key}"}
    # The key is the token's public prefix, never the token itself.
    assert token not in json.dumps(entry.additional_data)


def test_an_import_logs_one_entry_with_its_count_and_its_run(make_user):
    mia = make_user("mia", role="Marketer")
    ContactFactory(email="old@example.com", first_name="Old")
    rows = "".join(f"p{n}@example.com,P{n}\n" for n in range(30))
    run = import_run_create(upload=ContentFile(f"Email,First Name\nold@example.com,Renamed\n{rows}".encode(),
                                               name="fair.csv"), by=mia)
    run = import_run_start(run=run, background=False)
    assert (run.created_count, run.updated_count) == (30, 1)
    [entry] = operations()
    assert entry.additional_data["count"] == 31
    assert (entry.additional_data["created"], entry.additional_data["updated"]) == (30, 1)
    assert entry.additional_data["run"] == {"id": run.pk, "kind": "import run", "url": f"/contacts/imports/{run.pk}/"}
    assert entry.actor == mia
    # Not one entry per row.
    assert LogEntry.objects.get_for_model(Contact).count() == 2  # the factory's contact, then the import


def test_the_import_command_is_named_as_the_source(tmp_path):
    path = tmp_path / "people.csv"
    path.write_text("Email\nzoe@example.com\nyan@example.com\n")
    call_command("import_contacts", str(path), stdout=open("/dev/null", "w"))  # noqa: SIM115
    [entry] = operations()
    assert entry.additional_data["count"] == 2
    assert (entry.additional_data["source"], entry.additional_data["source_detail"]) == ("command", "import_contacts")
    assert ImportRun.objects.get().pk == entry.additional_data["run"]["id"]


def test_a_bulk_action_logs_one_entry_with_its_count(client, make_user):
    mia = make_user("mia", role="Marketer")
    people = ContactFactory.create_batch(12)
    client.force_login(mia)
    response = client.post("/contacts/bulk/", {"action": "add_tags", "scope": "selected", "tags": "fair, vip",
                                                "contact": [c.pk for c in people]})
    assert response.status_code == 302
    [entry] = operations()
    assert entry.object_repr == "Tagged fair, vip: 24 contacts"
    assert (entry.additional_data["count"], entry.actor, entry.additional_data["source"]) == (24, mia, "back_office")


def test_a_bulk_delete_logs_one_entry_not_one_per_contact(client, make_user):
    root = make_user("root", is_superuser=True, is_staff=True)
    people = ContactFactory.create_batch(5)
    client.force_login(root)
    response = client.post("/contacts/bulk/", {"action": "delete", "scope": "selected", "confirmed": "yes",
                                                "contact": [c.pk for c in people]})
    assert response.status_code == 302
    assert not Contact.objects.exists()
    assert LogEntry.objects.filter(action=LogEntry.Action.DELETE).count() == 0
    [entry] = operations()
    assert (entry.object_repr, entry.additional_data["count"]) == ("Deleted: 5 contacts", 5)


def test_each_journey_step_logs_one_entry_for_its_batch():
    people = ContactFactory.create_batch(4)
    trip = journey(name="Fair follow-up", steps=[
        {"key": "tag", "kind": "add_tag", "config": {"tag": "welcomed"}, "next": "stage"},
        {"key": "stage", "kind": "set_lifecycle", "config": {"stage": "engaged"}, "next": "field"},
        {"key": "field", "kind": "set_field", "config": {"field": "plan", "value": "pro"}, "next": "end"},
        {"key": "end", "kind": "exit"}])
    journey_enrol(journey=trip, contacts=Contact.objects.all(), source="test")
    journeys_run_due()
    logged = [(e.object_repr, e.additional_data["count"], e.additional_data["step"]) for e in operations()]
    assert logged == [("Tagged welcomed: 4 contacts", 4, "tag"), ("Moved to Engaged: 4 contacts", 4, "stage"),
                      ("Set plan: 4 contacts", 4, "field")]
    assert all(e.additional_data["journey_id"] == trip.pk for e in operations())
    # The contacts' own histories hold nothing of the journey: it logged its operations only.
    assert all(len(entries_of(person)) == 1 for person in people)


def test_secrets_never_appear_in_the_log_not_even_encrypted():
    account = gateway_services.account_create(capability=Capability.CRM_SYNC, adapter="airtable", name="airtable",
                                      base_url="https://api.airtable.com/v0",
                                      settings={"base_id": "appBase1", "table": "Contacts"},
                                      credentials={"token": "patSecret.first"})
    first_encrypted = account.credentials_encrypted
    account = gateway_services.account_update(account=account, credentials={"token": "patSecret.second"},
                                              name="Airtable")
    subscription, signing_secret = subscription_create(name="CRM", url="https://example.com/hook",
                                                       events=["contact.created"])
    logged = json.dumps([[e.changes, e.changes_text, e.serialized_data, e.additional_data]
                         for e in LogEntry.objects.all()])
    for secret in ("patSecret.first", "patSecret.second", first_encrypted, account.credentials_encrypted,
                   signing_secret, subscription.secret_encrypted):
        assert secret not in logged
    update = entries_of(account)[-1]
    # A change of secret is still logged, as a change, with nothing of either value.
    assert update.changes_dict["credentials_encrypted"] == [SECRET_SHOWN_AS, SECRET_SHOWN_AS]
    assert update.changes_dict["name"] == ["airtable", "Airtable"]


def test_a_shell_change_says_its_source_is_not_known_and_a_context_names_it():
    ann = ContactFactory()
    contact_update(contact=ann, city="Oslo")
    assert entries_of(ann)[-1].additional_data == {"source": "unknown"}
    with audit_source(AuditSource.WORKER, "crm.tasks.something"):
        contact_update(contact=ann, city="Bergen")
    assert entries_of(ann)[-1].additional_data == {"source": "worker", "source_detail": "crm.tasks.something"}


def test_the_log_cannot_be_changed_or_deleted_in_the_admin(client, make_user):
    root = make_user("root", is_staff=True, is_superuser=True)
    ann = ContactFactory()
    entry = entries_of(ann)[-1]
    client.force_login(root)
    assert client.get("/admin/auditlog/logentry/").status_code == 200
    assert client.get(f"/admin/auditlog/logentry/{entry.pk}/change/").status_code == 200  # read only view
    assert client.post(f"/admin/auditlog/logentry/{entry.pk}/change/", {"object_repr": "x"}).status_code == 403
    assert client.post(f"/admin/auditlog/logentry/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.get("/admin/auditlog/logentry/add/").status_code == 403
    response = client.post("/admin/auditlog/logentry/", {"action": "delete_selected", "_selected_action": [entry.pk],
                                                         "post": "yes"})
    assert response.status_code in (200, 302)
    assert LogEntry.objects.filter(pk=entry.pk).exists()


def test_the_api_reads_the_log_for_admins_only_and_never_writes_it(api_as):
    ann = ContactFactory()
    entry = entries_of(ann)[-1]
    admin = api_as("Admin")
    listed = admin.get("/api/audit/", {"model": "crm.contact", "object": ann.pk})
    assert listed.status_code == 200
    assert [row["id"] for row in listed.json()["results"]] == [entry.pk]
    assert listed.json()["results"][0]["source"] == "unknown"
    assert admin.get(f"/api/audit/{entry.pk}/").json()["object_repr"] == str(ann)
    assert admin.post("/api/audit/", {"object_repr": "x"}, format="json").status_code == 405
    assert admin.patch(f"/api/audit/{entry.pk}/", {"object_repr": "x"}, format="json").status_code == 405
    assert admin.put(f"/api/audit/{entry.pk}/", {"object_repr": "x"}, format="json").status_code == 405
    assert admin.delete(f"/api/audit/{entry.pk}/").status_code == 405
    assert LogEntry.objects.get(pk=entry.pk).object_repr == str(ann)
    for role in ("Marketer", "Analyst", "Approver"):
        assert api_as(role).get("/api/audit/").status_code == 403
    assert admin.get("/api/audit/", {"source": "nowhere"}).status_code == 400


def test_the_api_list_costs_the_same_queries_for_3_or_30_entries(api_as):
    admin = api_as("Admin")
    ContactFactory.create_batch(3)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert admin.get("/api/audit/", {"page_size": 100}).status_code == 200
        return len(captured)

    few = queries()
    ContactFactory.create_batch(27)
    assert queries() == few
    assert few <= 5


def test_the_api_filters_by_who_source_and_date(api_as, make_user):
    mia = make_user("mia", role="Marketer")
    ann = ContactFactory()
    with audit_source(AuditSource.COMMAND, "seed", actor=mia):
        contact_update(contact=ann, city="Rome")
    admin = api_as("Admin")
    by_mia = admin.get("/api/audit/", {"who": "mia"}).json()["results"]
    assert [(row["who"], row["source"], row["source_detail"]) for row in by_mia] == [("mia", "command", "seed")]
    assert by_mia[0]["changes"]["city"][1] == "Rome"
    assert len(admin.get("/api/audit/", {"source": "command"}).json()["results"]) == 1
    assert admin.get("/api/audit/", {"since": "2999-01-01"}).json()["results"] == []


def test_the_audit_page_is_for_admins_and_filters(client, make_user):
    root = make_user("root", role="Admin")
    ann = ContactFactory(first_name="Findable")
    client.force_login(make_user("mia", role="Marketer"))
    assert client.get("/audit/").status_code == 403
    client.force_login(root)
    page = client.get("/audit/", {"q": "Findable", "model": "crm.contact"})
    assert page.status_code == 200
    assert str(ann) in page.content.decode()
    assert "No change recorded matches" in client.get("/audit/", {"q": "nobody-by-this-name"}).content.decode()
    assert client.post("/audit/", {"q": "Findable"}).status_code == 405


def test_a_contact_page_shows_its_change_history(client, make_user):
    mia = make_user("mia", role="Marketer")
    ann = ContactFactory(city="Lyon")
    with audit_source(AuditSource.API, "token abcd1234", actor=mia):
        contact_update(contact=ann, city="Nantes")
    client.force_login(mia)
    html = client.get(f"/contacts/{ann.pk}/").content.decode()
    assert "Change history" in html and "Nantes" in html and "API (token abcd1234)" in html


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_names_the_task_it_ran(qcluster):
    ann = ContactFactory(city="Lyon")
    task_id = async_task("crm.services.contacts_transition", contacts=[ann.pk], to="engaged")
    cluster = qcluster()
    task = wait_for(lambda: Task.objects.filter(id=task_id).first(), timeout=60, message="the task result")
    assert task.success, cluster.output()
    assert task.result == {"moved": 1, "skipped": 0}
    [entry] = operations()
    assert entry.additional_data["source"] == "worker"
    assert entry.additional_data["source_detail"] == "crm.services.contacts_transition"


def test_an_audited_save_costs_two_queries_more_the_row_before_and_the_entry():
    ann = ContactFactory(city="Lyon")

    def queries(city: str, *, audited: bool) -> int:
        with CaptureQueriesContext(connection) as captured:
            if audited:
                contact_update(contact=ann, city=city)
            else:
                with audit_quietly():
                    contact_update(contact=ann, city=city)
        return len(captured)

    queries("Oslo", audited=False)  # fills the caches a first save fills (subscribed webhook events)
    assert queries("Nantes", audited=True) - queries("Rome", audited=False) == 2


def test_erasing_a_person_leaves_their_data_nowhere_in_the_log_but_keeps_what_happened(make_user):
    root = make_user("root", role="Admin")
    ann = ContactFactory(email="ana.avila@acme.example", first_name="Ana", city="Lyon")
    contact_update(contact=ann, city="Nantes", first_name="Anita")
    contact_erase(contact=ann, by=root, confirm="ana.avila@acme.example")
    history = entries_of(ann)
    logged = json.dumps([[e.object_repr, e.changes, e.changes_text, e.serialized_data] for e in history])
    for personal in ("ana.avila", "Ana", "Anita", "Lyon", "Nantes"):
        assert personal not in logged
    assert [sorted(e.changes_dict) for e in history[:2]][1] == ["city", "first_name"]
    assert history[-1].additional_data["operation"] == "Erased at the person's request"
    assert history[-1].actor == root


def test_every_command_of_ours_names_itself_in_the_audit_log():
    """A command that is not an AuditedCommand would log its changes as 'Not known'."""
    import importlib

    from django.core.management import get_commands

    from aicmo_site.management.base import AuditedCommand
    from aicmo_site.registry import DOMAIN_APPS_IN_ORDER

    ours = {name: app for name, app in get_commands().items() if app.split(".")[0] in {*DOMAIN_APPS_IN_ORDER,
                                                                                        "aicmo_site"}}
    assert len(ours) > 15
    plain = [name for name, app in ours.items()
             if not issubclass(importlib.import_module(f"{app}.management.commands.{name}").Command, AuditedCommand)]
    assert plain == []


def test_an_enrichment_run_logs_one_entry_with_its_count_and_its_run(httpserver, make_user, settings):
    settings.CRM_ENRICHMENT_BATCH_SIZE = 2
    mia = make_user("mia", role="Marketer")
    people = [ContactFactory(email=f"{name}@acme.io") for name in ("ann", "bob", "nobody", "dead")]
    providers_set_up(httpserver)
    run = enrichment_run_create(all_new=True, enqueue=False, by=mia)
    run = enrichment_run_process(run_id=run.pk)
    assert run.verified == 4
    [entry] = operations()
    assert entry.object_repr == f"Enriched by run {run.pk}: 4 contacts"
    assert (entry.actor, entry.additional_data["count"], entry.additional_data["enriched"]) == (mia, 4, run.enriched)
    assert entry.additional_data["run"] == {"id": run.pk, "kind": "enrichment run",
                                            "url": f"/contacts/enrichment/{run.pk}/"}
    # Two batches, four contacts changed: still one entry, and none in the contacts' own histories.
    assert all(len(entries_of(person)) == 1 for person in people)


def test_an_airtable_push_logs_one_entry_with_its_count_and_its_run(airtable, make_user):  # noqa: F811
    mia = make_user("mia", role="Marketer")
    ContactFactory.create_batch(3)
    airtable.expect_request("/v0/appBase123/Contacts", method="PATCH").respond_with_handler(upsert_answer)
    run = airtable_sync_start(full=True, by=mia)
    airtable_sync_run(run.pk, full=True)
    [entry] = operations()
    assert entry.object_repr == "Pushed to Airtable: 3 contacts"
    assert (entry.actor, entry.additional_data["created"], entry.additional_data["refused"]) == (mia, 3, 0)
    assert entry.additional_data["run"]["id"] == run.pk
    airtable_sync()  # the scheduled push: nobody asked, no run, still one entry
    assert [e.additional_data.get("run") for e in operations()] == [entry.additional_data["run"], None]


def test_tags_and_topics_of_one_contact_are_in_its_history_and_its_page(api_as, client):
    """Through the API: a contact created with tags and topics, its topics changed, one tag added and
    one taken off through the bulk endpoints naming it alone."""
    Topic.objects.create(name="Pricing", slug="pricing")
    Topic.objects.create(name="Events", slug="events")
    api = api_as("Marketer")
    created = api.post("/api/contacts/", {"email": "ann@example.com", "new_tags": ["vip", "fair"],
                                          "topics": ["pricing"]}, format="json")
    assert created.status_code == 201, created.content
    ann = Contact.objects.get(email="ann@example.com")
    assert api.patch(f"/api/contacts/{ann.pk}/", {"topics": ["events"]}, format="json").status_code == 200
    assert api.post("/api/contacts/bulk-tag/", {"contact_ids": [ann.pk], "tags": ["press"]},
                    format="json").json() == {"added": 1}
    assert api.post("/api/contacts/bulk-untag/", {"contact_ids": [ann.pk], "tags": ["fair"]},
                    format="json").json() == {"removed": 1}
    m2m = [(field, change["operation"], change["objects"]) for entry in entries_of(ann)
           for field, change in entry.changes_dict.items() if isinstance(change, dict)]
    assert m2m == [("tags", "add", ["fair", "vip"]), ("topics", "add", ["Pricing"]),
                   ("topics", "delete", ["Pricing"]), ("topics", "add", ["Events"]),
                   ("tags", "add", ["press"]), ("tags", "delete", ["fair"])]
    assert all(entry.actor == api.user for entry in entries_of(ann))
    assert operations() == []  # one contact: its own history, not an operation entry

    client.force_login(api.user)
    history = client.get(f"/contacts/{ann.pk}/").content.decode()
    assert "added <ins>press</ins>" in history and "taken off <del>fair</del>" in history


def test_tagging_many_contacts_or_assets_is_one_entry_for_the_operation(api_as, make_user):
    people = ContactFactory.create_batch(3)
    api = api_as("Marketer")
    api.post("/api/contacts/bulk-tag/", {"contact_ids": [c.pk for c in people], "tags": ["press"]}, format="json")
    [entry] = operations()
    assert (entry.object_repr, entry.actor) == ("Tagged press: 3 contacts", api.user)
    assert all(len(entries_of(person)) == 1 for person in people)
    assets = AssetFactory.create_batch(4)
    assert api.post("/api/assets/bulk-tag/", {"ids": [a.pk for a in assets], "tags": ["q4"]},
                    format="json").status_code == 200
    [tagged] = LogEntry.objects.get_for_model(Asset).filter(object_pk="")
    assert (tagged.object_repr, tagged.additional_data["count"], tagged.actor) == ("Tagged q4: 4 assets", 4, api.user)


def test_reading_targets_and_watched_repositories_are_logged_but_not_what_polling_writes(api_as, make_user):
    from crm.models import WatchedRepository
    from publishing.models import ReadabilityTarget
    from publishing.services.checks import readability_targets_set

    ada = make_user("ada", role="Admin")
    readability_targets_set(grades={"blog_post": 10}, by=ada)
    [entry] = entries_of(ReadabilityTarget.objects.get(kind="blog_post"))
    assert entry.changes_dict["max_grade"] == ["None", "10"]

    created = api_as("Admin").post("/api/github-repositories/", {"full_name": "octocat/Hello-World"})
    assert created.status_code == 201, created.data
    repository = WatchedRepository.objects.get()
    repository.figures_etag, repository.last_error = 'W/"abc"', "rate limited"
    repository.save()
    [added] = entries_of(repository)
    assert added.action == LogEntry.Action.CREATE and added.changes_dict["full_name"] == ["None", "octocat/Hello-World"]


def test_a_provider_account_and_an_email_template_show_their_history_with_no_secret(client, make_user):
    from publishing.tests.email.factories import EmailTemplateFactory

    account = gateway_services.account_create(capability=Capability.CRM_SYNC, adapter="airtable", name="airtable",
                                              base_url="https://api.airtable.com/v0",
                                              settings={"base_id": "appBase1", "table": "Contacts"},
                                              credentials={"token": "patSecret.first"})
    gateway_services.account_update(account=account, credentials={"token": "patSecret.second"}, name="Airtable")
    template = EmailTemplateFactory(name="Welcome")
    template.name = "Welcome aboard"
    template.save()
    client.force_login(make_user("ada", role="Admin"))
    html = client.get(f"/providers/{account.pk}/edit/").content.decode()
    assert "Change history" in html and SECRET_SHOWN_AS in html
    assert "patSecret" not in html and account.credentials_encrypted not in html
    html = client.get(f"/email/templates/{template.pk}/").content.decode()
    assert "Change history" in html and "Welcome aboard" in html


def test_a_suppression_a_person_adds_or_lifts_is_logged_but_not_one_a_bounce_makes(api_as):
    from crm.models import Suppression
    from crm.services import contact_mark_bounced

    api = api_as("Admin")
    added = api.post("/api/suppressions/", {"value": "no@acme.io", "reason": "manual"}, format="json")
    assert added.status_code == 201, added.data
    suppression = Suppression.objects.get(value="no@acme.io")
    assert api.delete(f"/api/suppressions/{suppression.pk}/").status_code == 204
    created, deleted = LogEntry.objects.get_for_model(Suppression).order_by("pk")
    assert (created.action, created.actor, created.changes_dict["value"]) == (
        LogEntry.Action.CREATE, api.user, ["None", "no@acme.io"])
    assert (deleted.action, deleted.actor) == (LogEntry.Action.DELETE, api.user)

    contact_mark_bounced(contact=ContactFactory(email="gone@acme.io"), hard=True, detail="550 no such user")
    assert Suppression.objects.filter(value="gone@acme.io").exists()
    assert LogEntry.objects.get_for_model(Suppression).count() == 2


def test_a_segment_and_a_list_show_their_change_history(client, make_user):
    from crm.models import ContactList, Segment

    segment = Segment.objects.create(name="Leads")
    segment.name = "Warm leads"
    segment.save()
    contact_list = ContactList.objects.create(name="Fair visitors")
    contact_list.name = "Fair 2026 visitors"
    contact_list.save()
    client.force_login(make_user("mia", role="Marketer"))
    html = client.get(f"/contacts/segments/{segment.pk}/").content.decode()
    assert "Change history" in html and "Warm leads" in html
    html = client.get(f"/contacts/lists/{contact_list.pk}/").content.decode()
    assert "Change history" in html and "Fair 2026 visitors" in html
