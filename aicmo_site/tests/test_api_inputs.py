"""Every API input is validated before it reaches a service or a query (issue 24): each case here was
a 500 found by fuzzing the API from its own schema."""

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**63
ANY_ID = 1


def test_a_segment_without_rules_is_refused_naming_the_field(api_as):
    response = api_as("Marketer").post("/api/segments/", {"name": "No rules"}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["fields"] == {"rules": ["This field is required."]}


def test_segment_rules_out_of_their_schema_are_refused_with_their_path(api_as):
    client = api_as("Marketer")
    too_many_days = {"op": "and", "rules": [{"field": "created_at", "operator": "within_days",
                                              "value": 10**12}]}
    response = client.post("/api/segments/", {"name": "Long ago", "rules": too_many_days}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_rules"
    assert response.json()["extra"]["errors"][0]["path"] == "rules.rules[0].value"
    huge = {"op": "and", "rules": [{"field": "custom:size", "operator": "gt", "value": BEYOND_64_BITS}]}
    assert client.post("/api/segments/preview/", {"rules": huge}, format="json").status_code == 400
    nul = {"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Pa\x00ris"}]}
    assert client.post("/api/segments/preview/", {"rules": nul}, format="json").status_code == 400


@pytest.mark.parametrize("method, path", [
    ("get", f"/api/contents/{BEYOND_64_BITS}/versions/"),
    ("post", f"/api/email-campaigns/{BEYOND_64_BITS}/cancel/"),
    ("get", f"/api/jobs/{BEYOND_64_BITS}/"),
    ("get", f"/api/deliveries/{BEYOND_64_BITS}/"),
    ("post", f"/api/analytics/scores/{BEYOND_64_BITS}/recompute/"),
    ("get", f"/api/privacy/contacts/{BEYOND_64_BITS}/export/"),
    ("get", f"/crm/{BEYOND_64_BITS}/"),
])
def test_path_ids_beyond_64_bits_are_not_found(api_as, method, path):
    response = getattr(api_as("Admin"), method)(path)
    assert response.status_code == 404


@pytest.mark.parametrize("path, field", [
    ("/api/jobs/", "campaign"),
    ("/api/deliveries/", "campaign"),
    ("/api/deliveries/", "contact"),
    ("/api/contacts/", "segment"),
    ("/api/contacts/", "company"),
    ("/api/assets/", "library"),
])
def test_filter_values_beyond_64_bits_are_refused_naming_the_filter(api_as, path, field):
    response = api_as("Admin").get(path, {field: BEYOND_64_BITS})
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize("path, body, field", [
    ("/api/assets/bulk-tag/", {"ids": [BEYOND_64_BITS], "tags": ["x"]}, "ids"),
    ("/api/assets/bulk-approve/", {"ids": [BEYOND_64_BITS]}, "ids"),
    ("/api/contacts/bulk-tag/", {"contact_ids": [BEYOND_64_BITS], "tags": ["x"]}, "contact_ids"),
    ("/api/contacts/bulk-tag/", {"segment": BEYOND_64_BITS, "tags": ["x"]}, "segment"),
    ("/api/email-campaigns/", {"campaign": BEYOND_64_BITS}, "campaign"),
    ("/api/enrichment-runs/", {"contact_ids": list(range(1, 1100))}, "contact_ids"),
])
def test_ids_and_lists_in_bodies_are_bounded(api_as, path, body, field):
    response = api_as("Admin").post(path, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["fields"]


@pytest.mark.parametrize("query, field", [
    ({"start": "0001-01-01"}, "start"),
    ({"end": "9999-12-31"}, "end"),
    ({"start": "0001-01-01", "end": "0001-01-02"}, "start"),
])
def test_report_dates_out_of_range_are_refused(api_as, query, field):
    response = api_as("Analyst").get("/api/analytics/overview/", query)
    assert response.status_code == 400
    assert field in response.json()["fields"]


def test_a_refused_report_asked_as_csv_answers_its_error_as_csv(api_as):
    client = api_as("Analyst")
    response = client.get("/api/analytics/overview/", {"start": "0001-01-01", "format": "csv"})
    assert response.status_code == 400
    assert response.content.decode().splitlines()[0] == "code,message,fields"
    described = client.options("/api/analytics/overview/?format=csv")
    assert described.status_code == 200


def test_an_analyst_cannot_recompute_a_score(api_as):
    contact = ContactFactory()
    response = api_as("Analyst").post(f"/api/analytics/scores/{contact.pk}/recompute/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert api_as("Approver").post(f"/api/analytics/scores/{contact.pk}/recompute/").status_code == 403


@pytest.mark.parametrize("role, allowed", [("Admin", True), ("Marketer", False), ("Approver", False),
                                           ("Analyst", False)])
def test_provider_accounts_in_the_admin_only_for_admins_as_in_the_api(make_user, api_as, role, allowed):
    user = make_user(f"staff-{role.lower()}", role=role, is_staff=True)
    client = Client()
    client.force_login(user)
    changelist = client.get(reverse("admin:gateways_provideraccount_changelist"))
    add = client.get(reverse("admin:gateways_provideraccount_add"))
    assert (changelist.status_code, add.status_code) == ((200, 200) if allowed else (403, 403))
    index = client.get(reverse("admin:index"))
    assert (b"provideraccount" in index.content) is allowed
    api = api_as(role, username=f"api-{role.lower()}").get("/api/providers/")
    assert (api.status_code == 200) is allowed


def test_the_log_in_that_locks_an_account_answers_the_api_error_shape(api_client, make_user, settings):
    make_user("ida", password="right-password-1")
    answers = [api_client.post("/api/auth/token/", {"username": "ida", "password": "guess"},
                               REMOTE_ADDR="203.0.113.77") for _ in range(settings.AXES_FAILURE_LIMIT)]
    locking = answers[-1]
    assert locking.status_code == 429
    assert locking["Content-Type"] == "application/json"
    assert locking.json()["code"] == "locked_out"
    assert [answer.json()["code"] for answer in answers[:-1]] == ["invalid_credentials"] * (
        settings.AXES_FAILURE_LIMIT - 1)


def test_the_log_in_page_still_answers_its_own_page_when_locked(client, make_user, settings):
    make_user("joe", password="right-password-1")
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        client.post("/accounts/login/", {"username": "joe", "password": "guess"})
    locking = client.post("/accounts/login/", {"username": "joe", "password": "guess"})
    assert locking.status_code == 429
    assert b"Too many failed log-ins" in locking.content


def test_every_operation_documents_its_refusals_in_the_error_shape(api_as):
    schema = api_as("Admin").get("/api/schema/", {"format": "json"}).json()
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            wanted = {"400", "401", "403", "404", "429"} | ({"409"} if method not in ("get", "head") else set())
            for code in wanted:
                content = operation["responses"].get(code, {}).get("content", {})
                if "$ref" not in content.get("application/json", {}).get("schema", {}):
                    missing.append(f"{method.upper()} {path} {code}")
    assert missing == []
    assert schema["components"]["schemas"]["Error"]["required"] == ["code", "message"]
    id_parameter = next(p for p in schema["paths"]["/api/contacts/{id}/"]["get"]["parameters"] if p["name"] == "id")
    assert id_parameter["schema"]["maximum"] == 2**63 - 1


def test_json_with_nul_characters_is_refused_naming_the_field(api_as):
    response = api_as("Marketer").post("/api/contacts/", {"email": "nul@example.com",
                                                          "custom_fields": {"plan": "gold\x00"}}, format="json")
    assert response.status_code == 400
    assert "custom_fields" in response.json()["fields"]


@pytest.mark.parametrize("command, arguments", [
    ("score_contacts", ["--contact", str(BEYOND_64_BITS)]),
    ("score_contacts", ["--contact", "0"]),
    ("rebuild_analytics", ["--chunk-size", "0"]),
    ("publish_due", ["--limit", str(BEYOND_64_BITS)]),
])
def test_commands_refuse_numbers_out_of_bounds_as_usage_errors(command, arguments):
    with pytest.raises(CommandError, match="is not"):
        call_command(command, *arguments)


def test_json_null_sent_as_form_text_is_refused(api_as):
    response = api_as("Marketer").post("/api/contacts/", {"email": "form@example.com", "custom_fields": "null"},
                                       format="multipart")
    assert response.status_code == 400
    assert response.json()["fields"] == {"custom_fields": ["This field may not be null."]}


def _back_office(make_user, role):
    client = Client()
    client.force_login(make_user(f"office-{role.lower()}", role=role))
    return client


def test_back_office_ids_beyond_64_bits_are_refused_not_crashed(make_user):
    client = _back_office(make_user, "Marketer")
    assert client.post(reverse("crm:enrich"), {"segment": str(BEYOND_64_BITS)}).status_code == 404
    assert client.get(reverse("crm:contact-list"), {"page": str(10**30)}).status_code == 200
    grid = client.get(reverse("media:asset-grid"), {"library": str(BEYOND_64_BITS)})
    assert grid.status_code == 200
    bulk = client.post(reverse("media:asset-bulk"), {"action": "approve", "ids": [str(BEYOND_64_BITS)]})
    assert bulk.status_code in (200, 302)


# POSTs that only read: counting unsaved segment rules, rendering an e-mail for a look.
READING_POSTS = {"preview"}


def _api_views(patterns):
    for pattern in patterns:
        if hasattr(pattern, "url_patterns"):
            yield from _api_views(pattern.url_patterns)
        elif hasattr(pattern.callback, "cls"):
            yield pattern.callback


def test_every_write_asks_more_than_a_view_permission():
    from django.urls import get_resolver

    loose = []
    for callback in _api_views(get_resolver("aicmo_site.api.urls").url_patterns):
        declared = getattr(callback.cls, "action_permissions", {}) or {}
        actions = getattr(callback, "actions", None) or {
            method: None for method in ("post", "put", "patch", "delete") if hasattr(callback.cls, method)}
        for method, action in actions.items():
            if method in ("get", "head", "options") or action in READING_POSTS or action not in declared:
                continue
            if all(".view_" in permission for permission in declared[action]):
                loose.append(f"{callback.cls.__name__}.{action or method}")
    assert loose == []
