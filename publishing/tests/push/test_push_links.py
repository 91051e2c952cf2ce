"""A contact's push link, end to end: written into an email as `{{ push_allow_url }}`, opened, and the
browser's subscription posted to the public endpoint with the page's signed token ties it to the contact.
Previews never carry a working link; an expired or altered one subscribes anonymously."""

import json
import re
import time

import pytest
from django.core import signing
from django.core.cache import cache

from crm.models import Contact, PushSubscription
from crm.services.push import push_allow_url
from crm.tests.factories import ContactFactory
from publishing.email.composing import content_of, render_for
from publishing.email.recipients import recipients_for
from publishing.email.services import email_template_preview
from publishing.tests.email.factories import EmailTemplateFactory

pytestmark = pytest.mark.django_db
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"
HTML = '<html><body><p>Hi</p><p><a href="{{ push_allow_url }}">Get our notifications</a></p></body></html>'


@pytest.fixture(autouse=True)
def _site(settings):
    settings.PUBLIC_BASE_URL = "https://aicmo.example"
    cache.clear()
    yield
    cache.clear()


def link_in(html: str) -> str:
    return re.search(r'href="(https://aicmo\.example/[^"]*push/allow/[^"]+)"', html).group(1)


def page_token(page: str) -> str:
    return re.search(r'data-contact="([^"]*)"', page).group(1)


def subscribe(client, token: str, endpoint: str = "https://fcm.googleapis.com/fcm/send/ann-phone"):
    return client.post("/contacts/push/subscriptions/", json.dumps({
        "endpoint": endpoint, "keys": {"p256dh": P256DH, "auth": "tBHItJI5svbpez7KI4CCXg"}, "contact": token}),
        content_type="application/json")


def test_the_link_in_a_sent_email_ties_the_browser_that_subscribes_to_its_contact(client):
    ann = ContactFactory(first_name="Ann")
    contact = Contact.objects.select_related("company").get(pk=ann.pk)
    content = content_of(EmailTemplateFactory(html_body=HTML))
    rendered = render_for(content, recipients_for([contact], [])[ann.pk], campaign_name="Spring", delivery_id=41)

    link = link_in(rendered.html)
    page = client.get(link.removeprefix("https://aicmo.example"))
    assert page.status_code == 200 and b"data-aicmo-push" in page.content
    answer = subscribe(client, page_token(page.content.decode()))

    assert answer.status_code == 201 and answer.json()["contact"] is True
    assert PushSubscription.objects.get().contact == ann
    assert link in rendered.text  # the plain-text part carries it too


def test_a_preview_or_test_send_carries_no_working_link(client):
    ann = ContactFactory()
    rendered = email_template_preview(template=EmailTemplateFactory(html_body=HTML), contact=ann)

    page = client.get(link_in(rendered.html).removeprefix("https://aicmo.example"))

    assert page.status_code == 410 and page_token(page.content.decode()) == ""
    assert subscribe(client, "").json()["contact"] is False


def test_an_expired_link_subscribes_without_tying_anyone(client, settings, monkeypatch):
    settings.CRM_PUSH_LINK_MAX_AGE_DAYS = 30
    ann = ContactFactory()
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: signing.b62_encode(
        int(time.time()) - 31 * 86400))
    old_link = push_allow_url(ann)
    monkeypatch.undo()
    fresh_token = page_token(client.get(push_allow_url(ann).removeprefix("https://aicmo.example")).content.decode())

    page = client.get(old_link.removeprefix("https://aicmo.example"))
    old_token = old_link.rstrip("/").rsplit("/", 1)[1]

    assert page.status_code == 410 and "expired" in page.content.decode()
    assert page_token(page.content.decode()) == "" and fresh_token
    refused = subscribe(client, old_token)
    assert refused.status_code == 400 and refused.json()["code"] == "expired_token"
    assert not PushSubscription.objects.exists()
