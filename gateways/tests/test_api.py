import json

import pytest

from gateways import health
from gateways.capabilities import Capability
from gateways.errors import ProviderUnavailable, RateLimited
from gateways.models import ProviderAccount
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "sk-live-api-5Jd8Qw2Lm"
URL = "/api/providers/"


def test_admin_creates_an_account_and_never_sees_the_secret_again(api_as):
    admin = api_as("Admin")

    created = admin.post(URL, {"capability": "lead_enrichment", "adapter": "test_enrichment", "name": "apollo",
                               "priority": 1, "credentials": {"api_key": SECRET}}, format="json")
    listed = admin.get(URL)
    detail = admin.get(f"{URL}{created.data['id']}/")

    assert created.status_code == 201, created.data
    assert created.data["credential_names"] == ["api_key"]
    for response in (created, listed, detail):
        assert SECRET not in json.dumps(response.data)
        assert SECRET not in response.content.decode()
    assert ProviderAccount.objects.get().build_adapter().credentials == {"api_key": SECRET}


def test_update_with_blank_secret_keeps_it(api_as):
    admin = api_as("Admin")
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})

    response = admin.patch(f"{URL}{account.pk}/", {"priority": 3, "credentials": {"api_key": ""}}, format="json")

    assert response.status_code == 200, response.data
    account.refresh_from_db()
    assert account.priority == 3 and account.build_adapter().credentials == {"api_key": SECRET}


@pytest.mark.parametrize("role", ["Marketer", "Approver", "Analyst"])
def test_other_roles_cannot_read_or_write_accounts(api_as, role):
    client = api_as(role)
    account = ProviderAccountFactory(name="apollo")

    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}{account.pk}/").status_code == 403
    assert client.post(URL, {"name": "x"}, format="json").status_code == 403
    assert client.delete(f"{URL}{account.pk}/").status_code == 403


def test_bad_input_answers_400_with_field_errors(api_as):
    admin = api_as("Admin")
    ProviderAccountFactory(name="apollo")

    unknown = admin.post(URL, {"capability": "lead_enrichment", "adapter": "nope", "name": "x"}, format="json")
    duplicate = admin.post(URL, {"capability": "lead_enrichment", "adapter": "test_enrichment", "name": "apollo"},
                           format="json")
    wrong_secret = admin.post(URL, {"capability": "lead_enrichment", "adapter": "test_enrichment", "name": "y",
                                    "credentials": {"password": "p"}}, format="json")

    assert unknown.status_code == 400 and "adapter" in unknown.data["fields"]
    assert duplicate.status_code == 400 and "name" in duplicate.data["fields"]
    assert wrong_secret.status_code == 400 and "credentials" in wrong_secret.data["fields"]


def test_list_filters_and_searches(api_as):
    admin = api_as("Admin")
    ProviderAccountFactory(name="apollo")
    ProviderAccountFactory(name="smtp", capability=Capability.EMAIL_SENDING, adapter="test_sending")

    by_capability = admin.get(URL, {"capability": "email_sending"})
    by_search = admin.get(URL, {"search": "apol"})

    assert [a["name"] for a in by_capability.data["results"]] == ["smtp"]
    assert [a["name"] for a in by_search.data["results"]] == ["apollo"]


def test_list_query_count_does_not_grow_with_accounts(api_as, django_assert_num_queries):
    admin = api_as("Admin")
    for n in range(5):
        ProviderAccountFactory(name=f"p{n}")

    # user and group permissions, the Admin check, count, one page with health joined
    with django_assert_num_queries(5):
        response = admin.get(URL)

    assert response.data["count"] == 5


def test_health_endpoint_is_readable_by_every_role_and_shows_advice(api_as, fake_providers,
                                                                   django_assert_num_queries):
    account = ProviderAccountFactory(name="apollo", priority=1)
    ProviderAccountFactory(name="dropcontact", priority=2)
    ProviderAccountFactory(name="smtp", capability=Capability.EMAIL_SENDING, adapter="test_sending")
    fake_providers.script("apollo", ProviderUnavailable("unauthorised", status=401))
    api_as("Admin").post(f"{URL}{account.pk}/probe/")
    analyst = api_as("Analyst")

    # user and group permissions, every account with its health in one query, and one query per kind
    # of work that needs a provider (email sends, SMS sends, jobs, enrichment runs for enrichment and for
    # verification)
    with django_assert_num_queries(8):
        response = analyst.get(f"{URL}health/")

    assert response.status_code == 200
    enrichment = next(c for c in response.data["capabilities"] if c["capability"] == "lead_enrichment")
    assert enrichment["in_use"] is True and enrichment["ok"] is False
    assert enrichment["providers"][0]["advice"] == "the API key is wrong or revoked; update it in Provider accounts"
    assert response.data["ok"] is False


def test_account_and_health_report_say_why_the_breaker_is_open(api_as):
    account = ProviderAccountFactory(name="apollo")
    health.record_failure(account.pk, RateLimited("429", status=429, retry_after=30), latency_ms=5)

    detail = api_as("Admin").get(f"{URL}{account.pk}/").data
    report = api_as("Analyst", "reader").get(f"{URL}health/").data

    assert detail["health"]["breaker_state"] == "open" and detail["health"]["open_reason"] == "rate_limit"
    enrichment = next(c for c in report["capabilities"] if c["capability"] == "lead_enrichment")
    assert enrichment["providers"][0]["open_reason"] == "rate_limit"


def test_probe_is_for_admins(api_as, fake_providers):
    account = ProviderAccountFactory(name="apollo")

    assert api_as("Marketer").post(f"{URL}{account.pk}/probe/").status_code == 403
    response = api_as("Admin", "boss").post(f"{URL}{account.pk}/probe/")

    assert response.status_code == 200 and response.data["ok"] is True


def test_deleting_an_account_still_in_use_is_a_conflict(api_as, monkeypatch):
    from django.contrib.auth.models import Group
    from django.db.models import ProtectedError

    account = ProviderAccountFactory(name="smtp-main")

    def refuse(self, *args, **kwargs):
        raise ProtectedError("protected", [Group(name="a campaign standing in for the real user")])

    monkeypatch.setattr(ProviderAccount, "delete", refuse)
    response = api_as("Admin").delete(f"{URL}{account.pk}/")

    assert response.status_code == 409
    assert response.data["code"] == "in_use" and "Disable it instead" in response.data["message"]


def test_admin_deletes_an_unused_account(api_as):
    account = ProviderAccountFactory(name="apollo")

    assert api_as("Admin").delete(f"{URL}{account.pk}/").status_code == 204
    assert not ProviderAccount.objects.exists()


def test_anonymous_callers_see_nothing(api_client):
    assert api_client.get(f"{URL}health/").status_code in (401, 403)
    assert api_client.get(URL).status_code in (401, 403)
