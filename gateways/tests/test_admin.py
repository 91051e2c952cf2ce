import pytest

from gateways.errors import ProviderUnavailable
from gateways.models import BreakerState, OpenReason, ProviderAccount, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "sk-live-admin-Vb71Kx0"
ADD_URL = "/admin/gateways/provideraccount/add/"


def _form(**extra):
    return {"capability": "lead_enrichment", "adapter": "test_enrichment", "name": "apollo", "priority": 1,
            "enabled": "on", "base_url": "", "timeout_seconds": 10, "rate_limit_count": "", "rate_limit_seconds": "",
            "settings": "{}", **extra}


def test_admin_adds_an_account_with_a_write_only_secret(admin_client):
    response = admin_client.post(ADD_URL, _form(secret__api_key=SECRET))

    assert response.status_code == 302, response.content.decode()[:2000]
    account = ProviderAccount.objects.get(name="apollo")
    assert account.build_adapter().credentials == {"api_key": SECRET}
    change_page = admin_client.get(f"/admin/gateways/provideraccount/{account.pk}/change/")
    list_page = admin_client.get("/admin/gateways/provideraccount/")
    assert change_page.status_code == 200 and list_page.status_code == 200
    assert 'type="password"' in change_page.content.decode()
    assert "Currently set; leave blank to keep it" in change_page.content.decode()
    assert SECRET not in change_page.content.decode()
    assert SECRET not in list_page.content.decode()


def test_blank_secret_on_change_keeps_the_stored_one(admin_client):
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})

    response = admin_client.post(f"/admin/gateways/provideraccount/{account.pk}/change/",
                                 _form(priority=7, secret__api_key=""))

    assert response.status_code == 302
    account.refresh_from_db()
    assert account.priority == 7 and account.build_adapter().credentials == {"api_key": SECRET}


def test_secret_the_adapter_does_not_use_is_a_form_error(admin_client):
    response = admin_client.post(ADD_URL, _form(secret__password="hunter2"))

    assert response.status_code == 200
    assert "does not use password" in response.content.decode()
    assert not ProviderAccount.objects.exists()


def test_adapter_of_another_capability_is_a_form_error(admin_client):
    response = admin_client.post(ADD_URL, _form(adapter="test_sending"))

    assert response.status_code == 200
    assert "provides email_sending" in response.content.decode()


def test_probe_now_action_reports_each_outcome(admin_client, fake_providers):
    ok = ProviderAccountFactory(name="apollo")
    broken = ProviderAccountFactory(name="dropcontact")
    fake_providers.script("dropcontact", ProviderUnavailable("unauthorised", status=401))

    response = admin_client.post("/admin/gateways/provideraccount/", {
        "action": "probe_now", "_selected_action": [ok.pk, broken.pk]}, follow=True)

    text = response.content.decode()
    assert "Apollo: apollo answers" in text, "the admin capitalises messages"
    assert "Dropcontact failed: unauthorised — the API key is wrong or revoked" in text


def test_change_page_says_why_the_breaker_is_open(admin_client):
    account = ProviderAccountFactory(name="apollo")
    ProviderHealth.objects.filter(pk=account.pk).update(breaker_state=BreakerState.OPEN,
                                                        open_reason=OpenReason.RATE_LIMIT)

    text = admin_client.get(f"/admin/gateways/provideraccount/{account.pk}/change/").content.decode()

    assert "opened by the provider&#x27;s rate limit" in text
