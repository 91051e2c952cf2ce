import pytest

from webhooks.events import emit
from webhooks.models import WebhookSubscription
from webhooks.services import subscription_create
from webhooks.tasks import deliver_due

pytestmark = pytest.mark.django_db


@pytest.fixture
def logged_in(client, make_user):
    """The test client, logged in as a new user holding `role`."""
    return lambda role: client.force_login(make_user(role.lower(), role=role)) or client


def test_an_admin_adds_a_subscription_and_is_shown_the_secret_once(logged_in):
    client = logged_in("Admin")
    response = client.post("/webhooks/", {"name": "Zapier", "url": "https://hooks.example.org/in",
                                          "events": ["contact.created", "email.bounced"]})
    assert response.status_code == 200
    subscription = WebhookSubscription.objects.get()
    assert response.context["secret"] == subscription.signing_secret()
    assert subscription.signing_secret() in response.content.decode()
    page = client.get(f"/webhooks/{subscription.pk}/").content.decode()
    assert subscription.signing_secret() not in page
    assert "Contact created, Email bounced" in page


def test_other_roles_cannot_see_the_pages(logged_in):
    client = logged_in("Marketer")
    assert client.get("/webhooks/").status_code == 403
    assert client.post("/webhooks/", {"name": "x", "url": "https://example.org/", "events": ["job.failed"]}
                       ).status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_list_page_query_count_does_not_grow_with_subscriptions(logged_in, django_assert_num_queries):
    client = logged_in("Admin")
    client.get("/webhooks/")
    for n in range(5):
        subscription_create(name=f"s{n}", url="https://example.org/", events=["job.failed"])
    with django_assert_num_queries(8):
        response = client.get("/webhooks/")
    assert len(response.context["page"].object_list) == 5


def test_the_delivery_log_shows_each_answer_and_its_query_count_does_not_grow(logged_in, httpserver,
                                                                              django_assert_num_queries):
    client = logged_in("Admin")
    subscription, _ = subscription_create(name="s", url=httpserver.url_for("/in"), events=["job.failed"])
    httpserver.expect_request("/in").respond_with_data("nope", status=500)
    for n in range(5):
        emit("job.failed", {"job_id": n})
    deliver_due()
    with django_assert_num_queries(10):
        response = client.get(f"/webhooks/{subscription.pk}/")
    page = response.content.decode()
    assert page.count("HTTP 500") == 5
    assert "Webhook receiver answered 500: nope" in page


def test_pause_resume_rotate_and_delete(logged_in):
    client = logged_in("Admin")
    subscription, secret = subscription_create(name="s", url="https://example.org/", events=["job.failed"])
    client.post(f"/webhooks/{subscription.pk}/toggle/")
    subscription.refresh_from_db()
    assert subscription.active is False
    rotated = client.post(f"/webhooks/{subscription.pk}/rotate-secret/")
    assert rotated.context["secret"] != secret
    client.post(f"/webhooks/{subscription.pk}/delete/")
    assert not WebhookSubscription.objects.exists()
