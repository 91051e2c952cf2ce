"""GitHub's webhook: X-Hub-Signature-256 as GitHub makes it, each delivery once, stars and forks by a
contact's public email as engagement on that contact.

The signing is checked against the example GitHub documents (its secret, body and signature), so
crm.github_signature is held to GitHub's scheme rather than to itself.
"""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from crm.choices import EventKind
from crm.github_signature import SignatureInvalid, verify
from crm.models import Contact, EngagementEvent, GitHubDelivery
from crm.tests.factories import ContactFactory
from gateways.capabilities import Capability
from gateways.services import account_create

pytestmark = pytest.mark.django_db
SECRET = "It's a Secret to Everybody"
URL = reverse("crm:github-events")


@pytest.fixture(autouse=True)
def github_account():
    return account_create(capability=Capability.REPOSITORY_SIGNALS, adapter="github", name="github",
                          credentials={"token": "ghp_x", "webhook_secret": SECRET,
                                       "previous_webhook_secret": "the old secret"})


def signature(body: bytes, secret: str = SECRET) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def star(email: str | None = "dev@acme.io", action: str = "created") -> dict:
    return {"action": action, "starred_at": "2026-12-06T10:00:00Z",
            "repository": {"id": 1, "full_name": "aicmo/aicmo"},
            "sender": {"login": "octocat", "id": 583231, "type": "User", "email": email}}


def deliver(client, payload: dict, *, event: str = "star", delivery: str = "72d3162e-cc78-11e3-81ab-4c9367dc0958",
            secret: str = SECRET, body: bytes | None = None, header: str | None = None):
    body = json.dumps(payload).encode() if body is None else body
    return client.post(URL, body, content_type="application/json", HTTP_X_GITHUB_EVENT=event,
                       HTTP_X_GITHUB_DELIVERY=delivery,
                       HTTP_X_HUB_SIGNATURE_256=signature(body, secret) if header is None else header)


def test_githubs_documented_example_verifies():
    verify(secrets=[SECRET], body=b"Hello, World!",
           header="sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_a_star_by_a_contacts_public_email_is_engagement_on_the_contact(client):
    contact = ContactFactory(email="dev@acme.io")

    assert deliver(client, star("Dev@Acme.io")).json() == {"status": "applied"}

    event = EngagementEvent.objects.get()
    assert (event.contact, event.kind, event.channel) == (contact, EventKind.STARRED, "github")
    assert event.detail == {"repository": "aicmo/aicmo", "login": "octocat"}
    assert GitHubDelivery.objects.get().contact == contact


def test_a_fork_is_engagement_too_and_an_unstar_is_not(client):
    ContactFactory(email="dev@acme.io")
    deliver(client, {"forkee": {"full_name": "octocat/aicmo"}, **star()}, event="fork", delivery="d-fork")
    deliver(client, star(action="deleted"), delivery="d-unstar")
    assert list(EngagementEvent.objects.values_list("kind", flat=True)) == [EventKind.FORKED]


def test_a_star_without_a_known_public_email_creates_nobody(client):
    ContactFactory(email="dev@acme.io")
    assert deliver(client, star(None), delivery="d1").status_code == 200
    assert deliver(client, star("stranger@else.io"), delivery="d2").status_code == 200
    assert not EngagementEvent.objects.exists()
    assert Contact.objects.count() == 1


def test_a_replayed_delivery_counts_once(client):
    ContactFactory(email="dev@acme.io")
    assert deliver(client, star()).json() == {"status": "applied"}
    assert deliver(client, star()).json() == {"status": "duplicate"}
    assert EngagementEvent.objects.count() == 1


def test_a_flipped_byte_is_refused(client):
    ContactFactory(email="dev@acme.io")
    body = json.dumps(star()).encode()
    good = signature(body)
    flipped = good[:-1] + ("0" if good[-1] != "0" else "1")
    response = deliver(client, {}, body=body, header=flipped)
    assert response.status_code == 400 and response.json()["code"] == "invalid_signature"
    tampered = body.replace(b"dev@acme.io", b"dew@acme.io")
    assert deliver(client, {}, body=tampered, header=good).status_code == 400
    assert not EngagementEvent.objects.exists() and not GitHubDelivery.objects.exists()


def test_a_wrong_secret_is_refused_and_the_previous_one_accepted(client):
    assert deliver(client, star(), secret="not the secret", delivery="d1").status_code == 400
    assert deliver(client, star(), secret="the old secret", delivery="d2").status_code == 200


def test_without_a_github_account_every_delivery_is_refused(client, github_account):
    github_account.delete()
    response = deliver(client, star())
    assert response.status_code == 400 and "no GitHub webhook secret" in response.json()["message"]


def test_a_missing_signature_or_delivery_id_is_refused(client):
    assert deliver(client, star(), header="").status_code == 400
    assert deliver(client, star(), delivery="").json()["code"] == "invalid_event"


def test_verify_refuses_a_sha1_signature():
    with pytest.raises(SignatureInvalid):
        verify(secrets=[SECRET], body=b"x", header="sha1=" + hashlib.sha1(b"x").hexdigest())  # noqa: S324
