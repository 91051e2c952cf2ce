"""An Admin adds an Amazon SES account in the back office: region, configuration set and topics as
settings, the access key as write-only secrets stored encrypted, and Test asks SES (moto) for the
account's quota."""

import pytest

from gateways import crypto
from gateways.capabilities import Capability
from gateways.models import ProviderAccount
from gateways.testing.ses import SesCredentials

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(login):
    return login("Admin")


def test_an_admin_adds_an_ses_account_tests_it_and_never_sees_the_secret_again(admin, ses_server):
    form = admin.get("/providers/new/ses/").content.decode()
    for setting in ("region", "from_email", "configuration_set", "notification_topic_arns"):
        assert f'name="setting__{setting}"' in form
    assert 'name="secret__access_key_id"' in form and 'name="secret__secret_access_key"' in form
    assert "AWS region" in form and "Notification topics (SNS ARNs)" in form

    with SesCredentials() as (key_id, secret):
        response = admin.post("/providers/new/ses/", {
            "name": "Amazon SES", "priority": "5", "enabled": "on", "timeout_seconds": "5",
            "base_url": ses_server.url, "setting__region": "us-east-1", "setting__from_email": "news@aicmo.example",
            "setting__configuration_set": "marketing",
            "setting__notification_topic_arns": "arn:aws:sns:us-east-1:123456789012:ses-feedback",
            "secret__access_key_id": key_id, "secret__secret_access_key": secret,
        })
        account = ProviderAccount.objects.get(name="Amazon SES")
        assert response.status_code == 302
        assert (account.capability, account.adapter) == (Capability.EMAIL_SENDING, "ses")
        assert crypto.decrypt_json(account.credentials_encrypted) == {"access_key_id": key_id,
                                                                      "secret_access_key": secret}
        assert secret not in account.credentials_encrypted

        edit = f"/providers/{account.pk}/edit/"
        tested = admin.post(f"/providers/{account.pk}/probe/", {"next": edit}, follow=True).content.decode()
        assert "Amazon SES answers: sending enabled, 0 of 200 sent in 24 h, 14/s" in tested
        assert secret not in tested and key_id not in tested
