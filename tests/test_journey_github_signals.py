"""GitHub's signed webhook drives developer-marketing signals through the real endpoint and pages: a
published release becomes a product-update draft on its content page, and a star by a contact's public
email shows on that contact's timeline.
"""

import hashlib
import hmac
import json

import pytest
from django.urls import reverse

from crm.tests.factories import ContactFactory
from gateways.capabilities import Capability
from gateways.services import account_create
from publishing.choices import ContentKind, ContentStatus
from publishing.models import Content

pytestmark = pytest.mark.django_db
SECRET = "gh-webhook-7f31"


@pytest.fixture(autouse=True)
def github_account():
    account_create(capability=Capability.REPOSITORY_SIGNALS, adapter="github", name="github",
                   credentials={"token": "ghp_journey", "webhook_secret": SECRET})


def deliver(client, event: str, delivery: str, payload: dict):
    body = json.dumps(payload).encode()
    return client.post(reverse("crm:github-events"), body, content_type="application/json",
                       HTTP_X_GITHUB_EVENT=event, HTTP_X_GITHUB_DELIVERY=delivery,
                       HTTP_X_HUB_SIGNATURE_256="sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest())


def release(action: str = "published") -> dict:
    return {"action": action, "repository": {"name": "aicmo", "full_name": "aicmo/aicmo"},
            "sender": {"login": "octocat", "email": None},
            "release": {"tag_name": "v2.4.0", "name": "v2.4.0", "draft": False, "prerelease": False,
                        "html_url": "https://github.com/aicmo/aicmo/releases/tag/v2.4.0",
                        "body": "## What's new\n\n- Stripe backfill\n- GitHub signals"}}


def test_a_published_release_is_a_product_update_draft_on_its_page(client, settings, make_user):
    writer = make_user("release-writer", role="Marketer")
    settings.GITHUB_RELEASE_DRAFT_AUTHOR = writer.username

    assert deliver(client, "release", "r-1", release()).json() == {"status": "applied"}
    assert deliver(client, "release", "r-1", release()).json() == {"status": "duplicate"}
    assert deliver(client, "release", "r-2", release("released")).status_code == 200

    content = Content.objects.get()
    assert (content.kind, content.status, content.author) == (ContentKind.PRODUCT_UPDATE, ContentStatus.DRAFT, writer)
    assert content.link_url == "https://github.com/aicmo/aicmo/releases/tag/v2.4.0"
    client.force_login(writer)
    page = client.get(reverse("publishing:content-detail", args=[content.pk])).content.decode()
    assert "aicmo v2.4.0" in page and "Stripe backfill" in page and "Product update" in page


def test_without_a_draft_author_a_release_makes_no_draft(client, settings):
    settings.GITHUB_RELEASE_DRAFT_AUTHOR = ""
    assert deliver(client, "release", "r-1", release()).status_code == 200
    assert not Content.objects.exists()


def test_a_star_by_a_contacts_public_email_shows_on_the_contact_timeline(client, make_user):
    contact = ContactFactory(email="dev@acme.io")
    star = {"action": "created", "repository": {"full_name": "aicmo/aicmo"},
            "sender": {"login": "octodev", "email": "dev@acme.io"}}

    assert deliver(client, "star", "s-1", star).json() == {"status": "applied"}

    client.force_login(make_user("mia", role="Marketer"))
    page = client.get(reverse("crm:contact-detail", args=[contact.pk])).content.decode()
    assert "Starred a repository" in page and "aicmo/aicmo" in page
