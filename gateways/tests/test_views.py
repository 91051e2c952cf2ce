from datetime import timedelta

import pytest
from django.utils import timezone

from gateways.capabilities import Capability
from gateways.errors import ProviderUnavailable
from gateways.models import ProviderAccount, ProviderHealth
from gateways.tests.factories import ProviderAccountFactory

pytestmark = pytest.mark.django_db

URL = "/providers/"


def test_page_shows_status_error_and_advice(login, fake_providers):
    account = ProviderAccountFactory(name="apollo")
    ProviderHealth.objects.filter(pk=account.pk).update(
        breaker_state="open", open_reason="failures", open_until=timezone.now() + timedelta(seconds=60),
        consecutive_failures=5, calls=5, last_error="ProviderUnavailable: unauthorised",
        last_advice="the API key is wrong or revoked; update it in Provider accounts")

    response = login("Analyst").get(URL)

    text = response.content.decode()
    assert response.status_code == 200
    assert 'data-provider="apollo"' in text and ">down" in text
    assert "the API key is wrong or revoked" in text
    assert "(repeated failures)" in text
    assert "No healthy provider (down)." in text
    assert ">Test</button>" not in text, "only Admins test"


def test_page_calls_placeholders_and_manual_channels_what_they_are(login):
    ProviderAccountFactory(name="no sending", capability=Capability.EMAIL_SENDING, adapter="noop_email_sending")
    ProviderAccountFactory(name="by hand", capability=Capability.CHANNEL_POSTING, adapter="manual")

    text = login("Admin").post(f"{URL}{ProviderAccount.objects.get(name='no sending').pk}/probe/", follow=True
                               ).content.decode()

    assert "no sending is not probed — not configured: a placeholder that does nothing" in text
    assert 'data-provider="no sending"' in text and ">not configured" in text and ">manual" in text
    assert "Not configured: placeholders do nothing." in text and "Manual: a person publishes" in text
    assert '<a href="/providers/new/?capability=email_sending">Add an account for email sending</a>' in text
    assert "healthy" not in text.replace("No healthy", "")


def test_empty_state_and_filters(login):
    ProviderAccountFactory(name="apollo")
    ProviderAccountFactory(name="smtp", capability=Capability.EMAIL_SENDING, adapter="test_sending")
    client = login("Admin")

    filtered = client.get(URL, {"capability": "email_sending"}).content.decode()
    nothing = client.get(URL, {"q": "zzz"}).content.decode()

    assert 'data-provider="smtp"' in filtered and 'data-provider="apollo"' not in filtered
    assert "No provider account matches" in nothing


def test_page_query_count_does_not_grow(login, django_assert_max_num_queries):
    client = login("Admin")
    for n in range(6):
        ProviderAccountFactory(name=f"p{n}")
    # One query per kind of work that names its need of a provider (email sends, posting jobs, SMS sends).
    with django_assert_max_num_queries(14) as few:
        client.get(URL)
    for n in range(6, 12):
        ProviderAccountFactory(name=f"p{n}")

    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(URL)


def test_admin_probes_from_the_page(login, fake_providers):
    account = ProviderAccountFactory(name="apollo")
    fake_providers.script("apollo", ProviderUnavailable("unauthorised", status=401))

    response = login("Admin").post(f"{URL}{account.pk}/probe/", follow=True)

    assert "apollo failed: unauthorised" in response.content.decode()
    assert ProviderHealth.objects.get(pk=account.pk).consecutive_failures == 1


def test_other_roles_cannot_probe(login):
    account = ProviderAccountFactory(name="apollo")

    assert login("Marketer").post(f"{URL}{account.pk}/probe/").status_code == 403
