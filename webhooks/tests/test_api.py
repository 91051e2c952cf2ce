import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import transaction

from aicmo_site.models import StatusChange
from webhooks.events import emit
from webhooks.models import MessageStatus, WebhookMessage, WebhookSubscription
from webhooks.tasks import deliver_due
from webhooks.tests.conftest import verified

pytestmark = pytest.mark.django_db
URL = "/api/webhook-subscriptions/"


@pytest.mark.parametrize("role", ["Marketer", "Analyst", "Approver"])
def test_only_admins_see_or_change_subscriptions(api_as, role):
    client = api_as(role)
    assert client.get(URL).status_code == 403
    assert client.post(URL, {"name": "x", "url": "https://example.org/", "events": ["job.failed"]},
                       format="json").status_code == 403
    assert client.get("/api/webhook-messages/").status_code == 403


def test_an_admin_creates_a_subscription_and_sees_its_secret_once(api_as, httpserver):
    admin = api_as("Admin")
    response = admin.post(URL, {"name": "CRM sync", "url": httpserver.url_for("/in"),
                                "events": ["contact.created", "job.failed"]}, format="json")

    assert response.status_code == 201, response.data
    secret = response.data["secret"]
    assert secret.startswith("whsec_")
    detail = admin.get(f"{URL}{response.data['id']}/")
    assert "secret" not in detail.data
    assert detail.data["events"] == ["contact.created", "job.failed"]

    httpserver.expect_request("/in").respond_with_data("ok")
    with transaction.atomic():
        emit("contact.created", {"contact_id": 5})
    deliver_due()
    assert verified(httpserver.log[0][0], secret)["data"] == {"contact_id": 5}

    log = admin.get("/api/webhook-messages/", {"subscription": response.data["id"]})
    [message] = log.data["results"]
    assert message["status"] == "delivered"
    assert message["deliveries"][0]["status_code"] == 200


def test_unknown_events_are_refused_with_the_known_ones(api_as):
    response = api_as("Admin").post(URL, {"name": "x", "url": "https://example.org/", "events": ["contact.gone"]},
                                    format="json")
    assert response.status_code == 400
    assert "events" in response.data["fields"]


def test_rotating_gives_a_new_secret_and_deleting_removes_the_subscription(api_as):
    admin = api_as("Admin")
    created = admin.post(URL, {"name": "x", "url": "https://example.org/", "events": ["job.failed"]}, format="json")
    rotated = admin.post(f"{URL}{created.data['id']}/rotate-secret/")
    assert rotated.status_code == 200 and rotated.data["secret"] != created.data["secret"]
    assert admin.patch(f"{URL}{created.data['id']}/", {"active": False}, format="json").data["active"] is False
    assert admin.delete(f"{URL}{created.data['id']}/").status_code == 204
    assert not WebhookSubscription.objects.exists()


def test_list_query_count_does_not_grow_with_subscriptions(api_as, django_assert_num_queries):
    admin = api_as("Admin")
    for n in range(5):
        admin.post(URL, {"name": f"s{n}", "url": "https://example.org/", "events": ["job.failed"]}, format="json")
    with django_assert_num_queries(3):
        response = admin.get(URL)
    assert response.data["count"] == 5


def test_delivery_log_query_count_does_not_grow_with_messages(api_as, django_assert_num_queries, httpserver):
    admin = api_as("Admin")
    admin.post(URL, {"name": "s", "url": httpserver.url_for("/in"), "events": ["job.failed"]}, format="json")
    httpserver.expect_request("/in").respond_with_data("ok")
    for n in range(5):
        emit("job.failed", {"job_id": n})
    deliver_due()
    with django_assert_num_queries(4):
        response = admin.get("/api/webhook-messages/")
    assert response.data["count"] == 5


def test_an_admin_retries_a_given_up_message_and_the_retry_is_recorded_once(api_as, httpserver, settings):
    settings.WEBHOOKS_RETRY_DELAYS_SECONDS = [0, 0]
    admin = api_as("Admin")
    admin.post(URL, {"name": "s", "url": httpserver.url_for("/in"), "events": ["job.failed"]}, format="json")
    httpserver.expect_request("/in").respond_with_data("down", status=500)
    emit("job.failed", {"job_id": 1})
    for _ in range(3):
        deliver_due()
    message = WebhookMessage.objects.get()
    assert message.status == MessageStatus.FAILED
    assert admin.get(f"/api/webhook-messages/{message.pk}/").json()["available_actions"] == ["retry"]

    retried = admin.post(f"/api/webhook-messages/{message.pk}/retry/")
    assert retried.status_code == 200 and retried.json()["status"] == MessageStatus.PENDING
    assert retried.json()["available_actions"] == []
    change = StatusChange.objects.get(content_type=ContentType.objects.get_for_model(WebhookMessage))
    assert (change.object_id, change.from_status, change.to_status, change.by, change.via) == (
        message.pk, MessageStatus.FAILED, MessageStatus.PENDING, admin.user, "api")

    again = admin.post(f"/api/webhook-messages/{message.pk}/retry/")
    assert (again.status_code, again.json()["code"]) == (400, "not_failed")
    assert StatusChange.objects.count() == 1
