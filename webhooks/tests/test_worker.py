import pytest
from django.db import transaction

from aicmo_site.testing.worker import wait_for
from webhooks.events import emit
from webhooks.models import MessageStatus, WebhookMessage
from webhooks.services import subscription_create
from webhooks.tests.conftest import verified


@pytest.mark.worker
def test_a_real_worker_delivers_an_event_right_after_its_transaction_commits(qcluster, httpserver):
    _, secret = subscription_create(name="CRM", url=httpserver.url_for("/in"), events=["contact.created"])
    httpserver.expect_request("/in").respond_with_data("ok")
    cluster = qcluster()

    with transaction.atomic():
        emit("contact.created", {"email": "grace@example.com"})

    wait_for(lambda: WebhookMessage.objects.filter(status=MessageStatus.DELIVERED).exists(), timeout=60,
             message=f"the delivery\n{cluster.output()}")
    body = verified(httpserver.log[0][0], secret)
    assert (body["type"], body["data"]["email"]) == ("contact.created", "grace@example.com")
