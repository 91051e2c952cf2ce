import io
import json
import logging

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.db import connection

from gateways import services
from gateways.capabilities import PersonQuery
from gateways.crypto import CredentialsUnreadable
from gateways.errors import NoProviderAvailable, ProviderUnavailable
from gateways.models import ProviderAccount
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

SECRET = "sk-live-7Hq2ZpX9vLw4Rt8N"


@pytest.fixture
def keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    return settings


def test_database_dump_holds_no_stored_secret(keys):
    ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})

    dump = io.StringIO()
    call_command("dumpdata", "gateways", stdout=dump)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM gateways_provideraccount")
        raw_rows = repr(cursor.fetchall())

    assert "apollo" in dump.getvalue() and "apollo" in raw_rows
    assert SECRET not in dump.getvalue()
    assert SECRET not in raw_rows
    assert "sk-live" not in raw_rows


def test_adapter_gets_the_decrypted_credentials(keys):
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET}, settings={"region": "eu"})

    adapter = ProviderAccount.objects.get(pk=account.pk).build_adapter()

    assert adapter.credentials == {"api_key": SECRET}
    assert adapter.settings == {"region": "eu"}


def test_blank_secret_keeps_the_stored_one(keys):
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})

    services.account_update(account=account, priority=5, credentials={"api_key": ""})

    assert ProviderAccount.objects.get(pk=account.pk).build_adapter().credentials == {"api_key": SECRET}
    assert account.credential_names == ["api_key"]


def test_unknown_credential_name_is_refused(keys):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="takes no credential password"):
        ProviderAccountFactory(name="apollo", credentials={"password": SECRET})


def test_rotation_old_key_still_decrypts_and_saving_re_encrypts_with_the_newest(keys):
    old_key = keys.FIELD_ENCRYPTION_KEYS[0]
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})
    new_key = Fernet.generate_key().decode()
    keys.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    assert ProviderAccount.objects.get(pk=account.pk).build_adapter().credentials["api_key"] == SECRET

    out = io.StringIO()
    call_command("rotate_provider_keys", stdout=out)
    assert "1 provider account" in out.getvalue()
    keys.FIELD_ENCRYPTION_KEYS = [new_key]
    assert ProviderAccount.objects.get(pk=account.pk).build_adapter().credentials["api_key"] == SECRET


def test_saving_an_account_re_encrypts_with_the_newest_key(keys):
    old_key = keys.FIELD_ENCRYPTION_KEYS[0]
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})
    new_key = Fernet.generate_key().decode()
    keys.FIELD_ENCRYPTION_KEYS = [new_key, old_key]

    services.account_update(account=account, enabled=True)
    keys.FIELD_ENCRYPTION_KEYS = [new_key]

    assert ProviderAccount.objects.get(pk=account.pk).build_adapter().credentials["api_key"] == SECRET


def test_removed_key_makes_the_account_unavailable_with_advice(keys):
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})
    keys.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CredentialsUnreadable):
        ProviderAccount.objects.get(pk=account.pk).build_adapter()
    with pytest.raises(NoProviderAvailable) as raised:
        services.enrich_people([PersonQuery(ref="1")])
    assert raised.value.attempts[0].advice == "enter the credentials again"
    assert isinstance(raised.value.attempts[0], ProviderUnavailable)


def test_secrets_never_reach_the_logs(keys, caplog, fake_providers):
    caplog.set_level(logging.DEBUG)
    account = ProviderAccountFactory(name="apollo", credentials={"api_key": SECRET})
    fake_providers.script("apollo", ProviderUnavailable("401 from provider", status=401), KeyError("x"))

    for _ in range(2):
        with pytest.raises(Exception):  # noqa: B017 - the failures are the point; the logs are checked
            services.enrich_people([PersonQuery(ref="1")])
    logging.getLogger("test").info("%r", ProviderAccount.objects.get(pk=account.pk))

    assert caplog.records, "the failures were logged"
    assert SECRET not in caplog.text
    assert SECRET not in json.dumps([r.getMessage() for r in caplog.records])
