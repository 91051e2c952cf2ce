"""The endpoints the embedded push script calls: a browser's subscription stored once, linked to a contact
by its signed token, refused with a reason when malformed, removed on request; the service worker served
from the root."""

import json

import pytest
from django.core.cache import cache
from django.urls import reverse

from crm.models import PushSubscription
from crm.services.push import push_contact_token
from crm.tests.factories import ContactFactory

pytestmark = pytest.mark.django_db
URL = reverse("crm:push-subscribe")
P256DH = "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def subscription(endpoint="https://fcm.googleapis.com/fcm/send/abc123", **extra) -> dict:
    return {"endpoint": endpoint, "expirationTime": None,
            "keys": {"p256dh": P256DH,
                     "auth": "tBHItJI5svbpez7KI4CCXg"}, **extra}


def post(client, body, url=URL, ip="203.0.113.7"):
    return client.post(url, json.dumps(body), content_type="application/json", HTTP_ORIGIN="https://acme.example",
                       REMOTE_ADDR=ip)


def test_a_browser_subscription_is_stored_once_for_its_contact(client):
    contact = ContactFactory()

    first = post(client, subscription(contact=push_contact_token(contact)))
    again = post(client, subscription())

    assert first.status_code == 201 and first.json()["contact"] is True
    assert first["Access-Control-Allow-Origin"] == "*"
    assert again.status_code == 201
    stored = PushSubscription.objects.get()
    assert stored.contact == contact and stored.auth == "tBHItJI5svbpez7KI4CCXg"


def test_a_preflight_is_answered_for_the_sites_origin(client):
    response = client.options(URL, HTTP_ORIGIN="https://acme.example", HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert response.status_code == 204 and "POST" in response["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("body, code", [
    ({"endpoint": "https://push.example/1"}, "invalid_subscription"),
    (subscription(keys={"p256dh": "not base64!", "auth": "x"}), "invalid_subscription"),
    (subscription(endpoint="not a url"), "invalid_subscription"),
    (subscription(contact="forged-token"), "invalid_token"),
])
def test_a_malformed_subscription_is_refused_with_a_reason(client, body, code):
    response = post(client, body)
    assert response.status_code == 400 and response.json()["code"] == code
    assert not PushSubscription.objects.exists()


def test_a_browser_can_withdraw(client):
    post(client, subscription())
    response = post(client, {"endpoint": subscription()["endpoint"]}, reverse("crm:push-unsubscribe"))
    assert response.json() == {"removed": True} and not PushSubscription.objects.exists()


def test_the_service_worker_is_served_from_the_root_for_every_page(client):
    response = client.get("/push-sw.js")
    assert response.status_code == 200 and response["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in response.content


def test_the_contact_page_shows_the_browsers_that_allowed_notifications(client, make_user):
    contact = ContactFactory()
    client.force_login(make_user("mia", role="Marketer"))
    url = reverse("crm:contact-detail", args=[contact.pk])
    assert "no browser subscribed" in client.get(url).content.decode()

    post(client, subscription(contact=push_contact_token(contact)))
    post(client, subscription(endpoint="https://updates.push.services.mozilla.com/wpush/v2/xyz",
                              contact=push_contact_token(contact)))

    assert "allowed in 2 browsers" in client.get(url).content.decode()


def test_one_browser_posting_too_often_gets_a_clear_429(client, settings):
    settings.CRM_PUSH_SUBSCRIBE_RATE_PER_ENDPOINT = 2
    contact = ContactFactory()

    answers = [post(client, subscription(contact=push_contact_token(contact)), ip=f"198.51.100.{n}")
               for n in range(3)]

    assert [answer.status_code for answer in answers] == [201, 201, 429]
    limited = answers[2]
    assert limited.json()["code"] == "rate_limited" and "this browser" in limited.json()["message"]
    assert 0 < int(limited["Retry-After"]) <= 3600 and limited.json()["extra"]["wait_seconds"] == \
        int(limited["Retry-After"])
    assert limited["Access-Control-Allow-Origin"] == "*" and "Retry-After" in limited["Access-Control-Expose-Headers"]
    other_browser = post(client, subscription(endpoint="https://fcm.googleapis.com/fcm/send/other"))
    assert other_browser.status_code == 201 and PushSubscription.objects.count() == 2


def test_one_address_posting_too_often_gets_a_429_and_others_are_not_held(client, settings):
    settings.CRM_PUSH_SUBSCRIBE_RATE_PER_IP = 3
    answers = [post(client, subscription(endpoint=f"https://fcm.googleapis.com/fcm/send/{n}"))
               for n in range(4)]

    assert [answer.status_code for answer in answers] == [201, 201, 201, 429]
    assert "this address" in answers[3].json()["message"]
    assert PushSubscription.objects.count() == 3
    assert post(client, subscription(endpoint="https://fcm.googleapis.com/fcm/send/9"), ip="192.0.2.1"
                ).status_code == 201
