"""Push sends against local push services that decrypt what they receive with each subscription's private
key: once per subscribed browser of the audience, gone subscriptions removed, unknown outcomes never resent."""

import threading
from datetime import UTC, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from crm.models import PushSubscription
from crm.tests.factories import ContactFactory, TagFactory
from gateways import services as gateways
from gateways import webpush
from gateways.testing.webpush import Browser
from publishing.push.models import PushDelivery
from publishing.push.services import push_send_plan, push_send_start, push_send_work

pytestmark = pytest.mark.django_db
MESSAGE = {"title": "Spring sale", "body": "20% off until Sunday", "url": "https://acme.example/sale"}


@pytest.fixture(autouse=True)
def no_quiet_hours(settings):
    # Nobody is in quiet hours unless a test says so.
    settings.PUSH_QUIET_HOURS_START = settings.PUSH_QUIET_HOURS_END = 0


@pytest.fixture(autouse=True)
def strict_server(httpserver):
    yield httpserver
    httpserver.check_assertions()


@pytest.fixture
def admin_user(make_user):
    return make_user("ada", role="Admin")


def subscribed(httpserver, path: str, browser: Browser, contact=None):
    contact = contact or ContactFactory(tags=[TagFactory()])
    PushSubscription.objects.create(endpoint=httpserver.url_for(path), p256dh=browser.p256dh, auth=browser.auth,
                                    contact=contact)
    return contact


def planned(by, *contacts):
    tag_ids = [tag.pk for contact in contacts for tag in contact.tags.all()]
    return push_send_plan(by=by, name="Spring sale", audience={"tag_ids": tag_ids}, **MESSAGE)


def test_each_subscribed_browser_gets_the_message_once(httpserver, admin_user, django_capture_on_commit_callbacks):
    laptop, phone, received = Browser(), Browser(), {}
    ann = subscribed(httpserver, "/fcm/ann-laptop", laptop)
    subscribed(httpserver, "/fcm/ann-phone", phone, contact=ann)
    nobody = ContactFactory(tags=[TagFactory()])  # never subscribed

    def service(browser, name):
        def answer(request):
            received[name] = browser.read(request.get_data())
            return Response(status=201)
        return answer

    httpserver.expect_oneshot_request("/fcm/ann-laptop", method="POST").respond_with_handler(service(laptop, "laptop"))
    httpserver.expect_oneshot_request("/fcm/ann-phone", method="POST").respond_with_handler(service(phone, "phone"))
    with django_capture_on_commit_callbacks():
        send = push_send_start(send=planned(admin_user, ann, nobody), by=admin_user)

    report = push_send_work(send_id=send.pk)
    again = push_send_work(send_id=send.pk)

    assert (send.audience_size, report.accepted, again.accepted) == (2, 2, 0)
    assert received == {"laptop": MESSAGE, "phone": MESSAGE}
    send.refresh_from_db()
    assert send.status == "completed"


@pytest.mark.parametrize("status", [404, 410])
def test_a_gone_subscription_is_removed(httpserver, admin_user, status):
    ann = subscribed(httpserver, "/fcm/gone", Browser())
    httpserver.expect_oneshot_request("/fcm/gone", method="POST").respond_with_data("", status=status)
    send = push_send_start(send=planned(admin_user, ann))

    report = push_send_work(send_id=send.pk)

    assert report.expired == 1 and not PushSubscription.objects.exists()
    assert PushDelivery.objects.get().status == "expired"


def test_quiet_hours_hold_a_push_in_the_contacts_time_zone_until_they_end(httpserver, admin_user, settings):
    hour = timezone.now().astimezone(UTC).hour
    settings.PUSH_QUIET_HOURS_START, settings.PUSH_QUIET_HOURS_END = hour, (hour + 2) % 24
    in_utc_browser, in_kolkata_browser, received = Browser(), Browser(), []
    in_utc = subscribed(httpserver, "/fcm/utc", in_utc_browser,
                        contact=ContactFactory(tags=[TagFactory()], time_zone="UTC"))  # quiet time there now
    in_kolkata = subscribed(httpserver, "/fcm/kolkata", in_kolkata_browser,  # 5:30 later: not quiet
                            contact=ContactFactory(tags=[TagFactory()], time_zone="Asia/Kolkata"))
    httpserver.expect_oneshot_request("/fcm/kolkata", method="POST").respond_with_handler(
        lambda request: received.append(in_kolkata_browser.read(request.get_data())) or Response(status=201))
    send = push_send_start(send=planned(admin_user, in_utc, in_kolkata))

    report = push_send_work(send_id=send.pk)

    assert (report.accepted, report.deferred, received) == (1, 1, [MESSAGE])
    waiting = PushDelivery.objects.get(contact=in_utc)
    assert waiting.status == "queued" and waiting.attempts == 0
    expected_end = (timezone.now().astimezone(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    assert waiting.next_attempt_at == expected_end
    assert push_send_work(send_id=send.pk).accepted == 0  # still quiet: nothing more is pushed
    send.refresh_from_db()
    assert send.status == "sending"

    settings.PUSH_QUIET_HOURS_START = settings.PUSH_QUIET_HOURS_END = 0  # the hours are over
    PushDelivery.objects.filter(pk=waiting.pk).update(next_attempt_at=timezone.now())
    httpserver.expect_oneshot_request("/fcm/utc", method="POST").respond_with_handler(
        lambda request: received.append(in_utc_browser.read(request.get_data())) or Response(status=201))
    assert push_send_work(send_id=send.pk).accepted == 1
    send.refresh_from_db()
    assert send.status == "completed" and received == [MESSAGE, MESSAGE]


def test_an_outage_waits_and_sends_nothing_twice(httpserver, admin_user):
    ann = subscribed(httpserver, "/fcm/down", Browser())
    httpserver.expect_oneshot_request("/fcm/down", method="POST").respond_with_data("", status=503)
    send = push_send_start(send=planned(admin_user, ann))

    push_send_work(send_id=send.pk)
    push_send_work(send_id=send.pk)  # not due yet

    delivery = PushDelivery.objects.get()
    assert delivery.status == "queued" and delivery.attempts == 1 and delivery.next_attempt_at is not None


def test_no_answer_in_time_is_never_sent_again(httpserver, admin_user, monkeypatch):
    release = threading.Event()
    ann = subscribed(httpserver, "/fcm/slow", Browser())
    httpserver.expect_oneshot_request("/fcm/slow", method="POST").respond_with_handler(
        lambda request: release.wait(15) and Response(status=201))
    send = push_send_start(send=planned(admin_user, ann))
    monkeypatch.setattr(gateways, "push_send",
                        lambda target, payload: webpush.push_send(target, payload, timeout=0.3))
    try:
        report = push_send_work(send_id=send.pk)
    finally:
        release.set()

    assert report.unknown == 1
    assert PushDelivery.objects.get().status == "outcome_unknown"
    assert push_send_work(send_id=send.pk).accepted == 0


def test_a_withdrawn_subscription_is_skipped(httpserver, admin_user):
    ann = subscribed(httpserver, "/fcm/withdrawn", Browser())
    send = push_send_start(send=planned(admin_user, ann))
    PushSubscription.objects.all().delete()

    assert push_send_work(send_id=send.pk).skipped == 1 and not httpserver.log


def test_the_pages_show_the_embed_code_and_start_a_send(client, make_user, httpserver,
                                                         django_capture_on_commit_callbacks):
    client.force_login(make_user("mia", role="Marketer"))
    ann = subscribed(httpserver, "/fcm/page", Browser())
    listing = client.get(reverse("push-send-list")).content.decode()
    assert "data-key=" in listing and "/push-sw.js" in listing

    response = client.post(reverse("push-send-new"), {"name": "Spring", "title": "Spring sale", "body": "20% off",
                                                      "url": "https://acme.example/sale",
                                                      "tags": [t.pk for t in ann.tags.all()]})
    send_url = response["Location"]
    assert "1 browser of 1 of the 1 people picked" in client.get(send_url).content.decode()
    with django_capture_on_commit_callbacks(execute=False) as wakes:
        client.post(send_url + "action/", {"action": "send"})
    assert len(wakes) == 1 and "0 of 1 accepted" in client.get(send_url).content.decode()
