"""The retention policies: safe defaults, the API and the page (Admins only), the dates they cut at."""

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.utils import timezone

from aicmo_site.models import BackgroundRun, RetentionKind, RetentionPolicy, RunKind, RunStatus
from aicmo_site.retention import months_before, policy_cutoff, retention_policies, retention_policy_update
from aicmo_site.roles import ADMIN, MARKETER
from aicmo_site.tasks import retention_nightly

pytestmark = pytest.mark.django_db


def test_every_policy_is_off_until_an_admin_turns_it_on():
    policies = retention_policies()
    assert [p.kind for p in policies] == RetentionKind.values
    assert not any(p.enabled for p in policies)
    assert not RetentionPolicy.objects.exists()


@pytest.mark.parametrize(("day", "months", "expected"), [
    (dt.date(2026, 12, 7), 6, dt.date(2026, 6, 7)),
    (dt.date(2026, 3, 31), 1, dt.date(2026, 2, 28)),
    (dt.date(2024, 2, 29), 12, dt.date(2023, 2, 28)),
    (dt.date(2026, 1, 15), 13, dt.date(2024, 12, 15)),
])
def test_months_before_stays_in_the_calendar(day, months, expected):
    assert months_before(day, months) == expected


def test_cutoffs_count_days_from_now_and_months_from_midnight(settings):
    settings.TIME_ZONE = "Europe/Paris"
    now = dt.datetime(2026, 12, 7, 1, 30, tzinfo=dt.UTC)  # 02:30 in Paris
    days = RetentionPolicy(kind=RetentionKind.IMPORT_FILES, keep_for=30)
    years = RetentionPolicy(kind=RetentionKind.AUDIT_ENTRIES, keep_for=2)
    assert policy_cutoff(days, now) == now - dt.timedelta(days=30)
    assert policy_cutoff(years, now).isoformat() == "2024-12-07T00:00:00+01:00"


def test_the_api_reads_and_changes_the_policies_for_admins_only(api_as):
    assert api_as(MARKETER).get("/api/retention/").status_code == 403
    admin = api_as(ADMIN)
    listed = admin.get("/api/retention/").json()["policies"]
    assert [(p["kind"], p["enabled"], p["unit"]) for p in listed][:2] == [
        ("engagement_events", False, "months"), ("email_deliveries", False, "months")]

    response = admin.patch("/api/retention/", {"policies": [
        {"kind": "engagement_events", "enabled": True, "keep_for": 13},
        {"kind": "inactive_contacts", "enabled": True, "action": "erase"}]}, format="json")

    assert response.status_code == 200, response.json()
    by_kind = {p["kind"]: p for p in response.json()["policies"]}
    assert (by_kind["engagement_events"]["enabled"], by_kind["engagement_events"]["keep_for"]) == (True, 13)
    assert (by_kind["inactive_contacts"]["action"], by_kind["inactive_contacts"]["keep_for"]) == ("erase", 3)
    assert not by_kind["audit_entries"]["enabled"]
    # Each change is in the audit log, with the API as its source.
    entry = LogEntry.objects.filter(content_type__model="retentionpolicy").order_by("pk").first()
    assert entry.additional_data["source"] == "api"


def test_the_api_refuses_a_bad_value_and_changes_nothing(api_as):
    response = api_as(ADMIN).patch("/api/retention/", {"policies": [
        {"kind": "audit_entries", "enabled": True, "keep_for": 5},
        {"kind": "import_files", "keep_for": 0}]}, format="json")
    assert response.status_code == 400
    assert not RetentionPolicy.objects.exists()
    assert api_as(MARKETER, "m2").patch("/api/retention/", {"policies": []}, format="json").status_code == 403


def test_the_page_is_for_admins_and_saves_every_policy(client, make_user):
    client.force_login(make_user("mia", role=MARKETER))
    assert client.get("/retention/").status_code == 403
    client.force_login(make_user("root", role=ADMIN))
    form = {f"{kind}-keep_for": "2" for kind in RetentionKind.values}
    form |= {"audit_entries-enabled": "on", "inactive_contacts-action": "erase"}

    response = client.post("/retention/", form)

    assert response.status_code == 302
    policies = {p.kind: p for p in retention_policies()}
    assert policies["audit_entries"].enabled and policies["audit_entries"].keep_for == 2
    assert not policies["engagement_events"].enabled
    assert policies["inactive_contacts"].action == "erase"
    response = client.post("/retention/", {**form, "import_files-keep_for": "none"})
    assert response.status_code == 200 and "at least 1" in response.content.decode()
    assert retention_policies()[4].keep_for == 2


def test_the_page_shows_the_policies_and_the_last_runs_in_a_fixed_number_of_queries(
        client, make_user, django_assert_num_queries):
    client.force_login(make_user("root", role=ADMIN))
    retention_policy_update(kind=RetentionKind.AUDIT_ENTRIES, enabled=True, keep_for=7)
    client.get("/retention/")  # session and permission caches
    for runs in (1, 3):
        while BackgroundRun.objects.count() < runs:
            BackgroundRun.objects.create(kind=RunKind.RETENTION, status=RunStatus.COMPLETED,
                                         result={"audit_entries": runs}, finished_at=timezone.now())
        with django_assert_num_queries(8):
            response = client.get("/retention/")

    page = response.content.decode()
    assert response.status_code == 200
    assert "Audit log entries" in page and 'name="audit_entries-enabled" checked' in page
    assert page.count("Audit entries: ") == 3
    assert 'href="/retention/"' in page  # in the navigation


def test_the_nightly_task_records_nothing_while_every_policy_is_off():
    assert retention_nightly() is None
    assert not BackgroundRun.objects.exists()


def test_the_nightly_task_finishes_a_run_its_killed_worker_left_open():
    retention_policy_update(kind=RetentionKind.AUDIT_ENTRIES, enabled=True, keep_for=1)
    LogEntry.objects.update(timestamp=timezone.now() - dt.timedelta(days=400))
    old = LogEntry.objects.count()
    left = BackgroundRun.objects.create(kind=RunKind.RETENTION, status=RunStatus.RUNNING, started_at=timezone.now())

    assert retention_nightly() == left.pk

    left.refresh_from_db()
    assert left.status == RunStatus.COMPLETED
    assert left.result == {"audit_entries": old}
    assert BackgroundRun.objects.count() == 1
