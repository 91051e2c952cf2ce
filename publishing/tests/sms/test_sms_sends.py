"""SMS sends against a local server replaying Twilio's Messages API: once per opted-in number, consent and
quiet hours respected, unknown outcomes reconciled by the message list, statuses from signed callbacks."""

import base64
import hashlib
import hmac
import threading
from datetime import UTC, timedelta
from urllib.parse import parse_qs, urlencode

import pytest
from django.urls import reverse
from django.utils import timezone
from werkzeug import Response

from aicmo_site.errors import ConflictError
from crm.models import SmsConsent
from crm.services import sms_consent_set
from crm.tests.factories import ContactFactory, TagFactory
from gateways.capabilities import Capability
from gateways.tests.factories import ProviderAccountFactory
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.sms.services import (
    sms_deliveries_reconcile,
    sms_delivery_act,
    sms_send_plan,
    sms_send_start,
    sms_send_work,
)

pytestmark = pytest.mark.django_db
SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
BASE = "https://aicmo.example"
BODY = "Acme: spring sale, 20% off until Sunday. Reply STOP to opt out"


@pytest.fixture(autouse=True)
def site(settings):
    settings.PUBLIC_BASE_URL = BASE
    # Nobody is in quiet hours unless a test says so.
    settings.SMS_QUIET_HOURS_START = settings.SMS_QUIET_HOURS_END = 0


@pytest.fixture
def twilio(httpserver):
    return ProviderAccountFactory(capability=Capability.SMS_SENDING, adapter="twilio", name="twilio",
                                  base_url=httpserver.url_for("").rstrip("/"), timeout_seconds=1,
                                  settings={"account_sid": SID, "from_number": "+15005550006"},
                                  credentials={"auth_token": TOKEN})


@pytest.fixture(autouse=True)
def strict_server(httpserver):
    yield httpserver
    httpserver.check_assertions()


def created(sid: str, to: str) -> dict:
    return {"sid": sid, "account_sid": SID, "to": to, "from": "+15005550006", "body": BODY, "status": "queued",
            "num_segments": "1", "date_created": "Mon, 07 Dec 2026 05:00:10 +0000", "date_sent": None}


def opted_in(phone: str, **fields):
    contact = ContactFactory(phone=phone, tags=[TagFactory(name=f"t{phone[-4:]}")], **fields)
    sms_consent_set(number=phone, status="opted_in", source="Signed up at the stand")
    return contact


def planned(by, *contacts) -> SmsSend:
    tag_ids = [tag.pk for contact in contacts for tag in contact.tags.all()]
    return sms_send_plan(by=by, name="Spring sale", audience={"tag_ids": tag_ids}, body=BODY)


@pytest.fixture
def admin_user(make_user):
    return make_user("ada", role="Admin")


def sent_forms(httpserver) -> list[dict]:
    return [{k: v[0] for k, v in parse_qs(request.get_data(as_text=True)).items()}
            for request, _ in httpserver.log if request.method == "POST"]


def test_only_opted_in_numbers_are_texted_once_each(twilio, httpserver, admin_user, django_capture_on_commit_callbacks):
    ann = opted_in("+44 7700 900123")
    bob = ContactFactory(phone="+447700900456", tags=[TagFactory(name="no consent")])  # never asked
    cat = ContactFactory(phone="07700 900789", tags=[TagFactory(name="national")])  # no country code
    dan = ContactFactory(phone="+447700900111", tags=[TagFactory(name="stopped")])
    sms_consent_set(number=dan.phone, status="opted_out", source="Replied STOP")
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        created("SMann", "+447700900123"), status=201)
    send = planned(admin_user, ann, bob, cat, dan)

    with django_capture_on_commit_callbacks():  # the worker's wake-up is not what is tested here
        send = sms_send_start(send=send, by=admin_user)
    assert (send.status, send.audience_size, send.left_out) == ("sending", 1, 3)
    report = sms_send_work(send_id=send.pk)
    again = sms_send_work(send_id=send.pk)

    assert (report.accepted, again.accepted) == (1, 0)
    assert sent_forms(httpserver) == [{"To": "+447700900123", "From": "+15005550006", "Body": BODY,
                                       "StatusCallback": f"{BASE}/sms/status/"}]
    delivery = SmsDelivery.objects.get()
    assert (delivery.status, delivery.message_id, delivery.provider, delivery.segments) == (
        "accepted", "SMann", "twilio", 1)
    send.refresh_from_db()
    assert send.status == "completed"


def test_a_consent_withdrawn_after_the_start_is_respected(twilio, httpserver, admin_user):
    ann = opted_in("+447700900123")
    send = sms_send_start(send=planned(admin_user, ann))
    sms_consent_set(number="+447700900123", status="opted_out", source="Replied STOP")

    report = sms_send_work(send_id=send.pk)

    assert report.skipped == 1 and report.accepted == 0
    assert SmsDelivery.objects.get().status == "skipped" and not httpserver.log


def test_an_unsubscribed_recipient_refused_by_twilio_is_opted_out(twilio, httpserver, admin_user):
    ann = opted_in("+447700900123")
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"code": 21610, "message": "Attempt to send to unsubscribed recipient", "status": 400}, status=400)
    send = sms_send_start(send=planned(admin_user, ann))

    sms_send_work(send_id=send.pk)

    delivery = SmsDelivery.objects.get()
    assert delivery.status == "failed" and "21610" in delivery.error
    assert SmsConsent.objects.get(number="+447700900123").consent == "opted_out"


def test_quiet_hours_defer_in_the_contacts_time_zone_and_never_drop(twilio, httpserver, admin_user, settings):
    hour = timezone.now().astimezone(UTC).hour
    settings.SMS_QUIET_HOURS_START, settings.SMS_QUIET_HOURS_END = hour, (hour + 2) % 24
    in_utc = opted_in("+447700900123", time_zone="UTC")  # it is quiet time there now
    in_kolkata = opted_in("+919876543210", time_zone="Asia/Kolkata")  # 5:30 later: not quiet
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        created("SMin", "+919876543210"), status=201)
    send = sms_send_start(send=planned(admin_user, in_utc, in_kolkata))

    sms_send_work(send_id=send.pk)

    assert sent_forms(httpserver)[0]["To"] == "+919876543210"
    waiting = SmsDelivery.objects.get(to="+447700900123")
    assert waiting.status == "queued" and waiting.attempts == 0
    expected_end = (timezone.now().astimezone(UTC) + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    assert waiting.next_attempt_at == expected_end
    send.refresh_from_db()
    assert send.status == "sending"


def test_a_provider_outage_sends_nothing_twice_and_retries_later(twilio, httpserver, admin_user):
    ann = opted_in("+447700900123")
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_json(
        {"code": 20500, "message": "Internal Server Error", "status": 500}, status=500)
    send = sms_send_start(send=planned(admin_user, ann))

    report = sms_send_work(send_id=send.pk)

    delivery = SmsDelivery.objects.get()
    assert report.stopped_because == "no provider available"
    assert delivery.status == "queued" and delivery.next_attempt_at > timezone.now() and delivery.attempts == 1
    assert sms_send_work(send_id=send.pk).accepted == 0  # not due yet: no second request


@pytest.fixture
def late_answer(httpserver):
    release = threading.Event()
    httpserver.expect_oneshot_request(MESSAGES, method="POST").respond_with_handler(
        lambda request: release.wait(5) and Response("late"))
    yield
    release.set()


def test_a_timeout_needs_checking_and_the_message_list_reconciles_it(twilio, httpserver, admin_user, late_answer):
    ann = opted_in("+447700900123")
    send = sms_send_start(send=planned(admin_user, ann))
    nothing = {"messages": [], "next_page_uri": None}
    httpserver.expect_oneshot_request(MESSAGES, method="GET").respond_with_json(nothing)

    report = sms_send_work(send_id=send.pk)

    delivery = SmsDelivery.objects.get()
    assert report.needs_checking == 1 and delivery.status == "needs_checking" and delivery.provider == "twilio"
    send.refresh_from_db()
    assert send.status == "completed"  # nothing left to send blindly; the page shows what needs checking

    found = created("SMlate", "+447700900123") | {
        "date_created": delivery.first_attempt_at.strftime("%a, %d %b %Y %H:%M:%S +0000")}
    httpserver.expect_oneshot_request(MESSAGES, method="GET", query_string={
        "To": "+447700900123", "DateSent>": delivery.first_attempt_at.date().isoformat(), "PageSize": "50"}) \
        .respond_with_json({"messages": [found], "next_page_uri": None})

    assert sms_deliveries_reconcile(send_id=send.pk) == 1
    delivery.refresh_from_db()
    assert (delivery.status, delivery.message_id) == ("accepted", "SMlate")
    # The POST was expected once: a second one would have no answer and fail the strict server.


def test_a_person_sends_again_what_the_provider_does_not_hold(twilio, httpserver, admin_user, late_answer,
                                                              django_capture_on_commit_callbacks):
    ann = opted_in("+447700900123")
    send = sms_send_start(send=planned(admin_user, ann))
    httpserver.expect_oneshot_request(MESSAGES, method="GET").respond_with_json({"messages": []})
    sms_send_work(send_id=send.pk)
    delivery = SmsDelivery.objects.get(status="needs_checking")

    with django_capture_on_commit_callbacks():
        delivery = sms_delivery_act(delivery=delivery, action="send_again", by=admin_user)

    assert delivery.status == "queued"


def signature(url: str, form: dict) -> str:
    data = url + "".join(f"{name}{form[name]}" for name in sorted(form))
    return base64.b64encode(hmac.new(TOKEN.encode(), data.encode(), hashlib.sha1).digest()).decode()


def callback(client, form: dict, *, sign: bool = True):
    url = reverse("sms-status")
    headers = {"HTTP_X_TWILIO_SIGNATURE": signature(BASE + url, form)} if sign else {}
    return client.post(url, urlencode(form), content_type="application/x-www-form-urlencoded", **headers)


def accepted_delivery(admin_user, number="+447700900123", sid="SMcb") -> SmsDelivery:
    ann = opted_in(number)
    send = sms_send_start(send=planned(admin_user, ann))
    delivery = SmsDelivery.objects.get(send=send)
    SmsDelivery.objects.filter(pk=delivery.pk).update(status="accepted", message_id=sid)
    return delivery


def status_form(status: str, **extra) -> dict:
    return {"MessageSid": "SMcb", "MessageStatus": status, "AccountSid": SID, "To": "+447700900123",
            "From": "+15005550006", **extra}


def test_signed_status_callbacks_move_the_delivery_forward_only(client, twilio, admin_user):
    delivery = accepted_delivery(admin_user)

    assert callback(client, status_form("sent")).status_code == 204
    assert callback(client, status_form("delivered")).status_code == 204
    assert callback(client, status_form("sent")).status_code == 204  # late and out of order

    delivery.refresh_from_db()
    assert (delivery.status, delivery.provider_status) == ("delivered", "delivered")


def test_an_undelivered_callback_with_21610_opts_the_number_out(client, twilio, admin_user):
    delivery = accepted_delivery(admin_user)

    callback(client, status_form("undelivered", ErrorCode="21610"))

    delivery.refresh_from_db()
    assert delivery.status == "undelivered" and delivery.error == "Provider error 21610"
    assert SmsConsent.objects.get(number="+447700900123").consent == "opted_out"


def test_an_unsigned_or_forged_callback_is_refused(client, twilio, admin_user):
    delivery = accepted_delivery(admin_user)
    url = reverse("sms-status")
    forged = signature(BASE + url, status_form("sent"))

    assert callback(client, status_form("delivered"), sign=False).status_code == 403
    response = client.post(url, urlencode(status_form("delivered")), content_type="application/x-www-form-urlencoded",
                           HTTP_X_TWILIO_SIGNATURE=forged)

    assert response.status_code == 403
    delivery.refresh_from_db()
    assert delivery.status == "accepted"


@pytest.fixture
def marketer(client, make_user):
    user = make_user("mia", role="Marketer")
    client.force_login(user)
    return client


def test_the_editor_counts_segments_and_the_send_page_starts_the_send(marketer, twilio, httpserver,
                                                                     django_capture_on_commit_callbacks):
    ann = opted_in("+447700900123")
    page = marketer.get(reverse("sms-send-new")).content.decode()
    assert "0 characters · GSM-7 · 0 segments" in page and "Ready to send through twilio" in page

    response = marketer.post(reverse("sms-send-new"), {"name": "Spring sale", "body": "Café ’deal’ " + "a" * 60,
                                                       "tags": [tag.pk for tag in ann.tags.all()]})
    send = SmsSend.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("sms-send-detail", args=[send.pk])
    detail = marketer.get(reverse("sms-send-detail", args=[send.pk])).content.decode()
    assert "UCS-2 · 2 segments (67 per segment)" in detail and "’" in detail
    assert "1 number will be texted; 0 of the 1 people picked are left out" in detail

    with django_capture_on_commit_callbacks(execute=False) as wakes:
        marketer.post(reverse("sms-send-action", args=[send.pk]), {"action": "send"})
    send.refresh_from_db()
    assert send.status == "sending" and len(wakes) == 1
    detail = marketer.get(reverse("sms-send-detail", args=[send.pk])).content.decode()
    assert "0 of 1 taken by the provider" in detail and "Queued" in detail


def test_the_list_page_keeps_its_query_count(marketer, admin_user, django_assert_max_num_queries):
    for n in range(3):
        planned(admin_user, opted_in(f"+4477009001{n:02d}"))
    url = reverse("sms-send-list")
    marketer.get(url)
    with django_assert_max_num_queries(12) as captured:
        marketer.get(url)
    baseline = len(captured)
    planned(admin_user, opted_in("+447700900199"))
    with django_assert_max_num_queries(baseline):
        marketer.get(url)


def test_no_sms_account_refuses_to_start(admin_user):
    ann = opted_in("+447700900123")
    send = planned(admin_user, ann)
    with pytest.raises(ConflictError, match="No SMS sending provider is configured") as caught:
        sms_send_start(send=send, by=admin_user)
    assert caught.value.code == "no_provider" and not SmsDelivery.objects.exists()


def test_erasure_takes_the_number_off_the_deliveries_and_keeps_the_counts(twilio, httpserver, admin_user):
    from crm.privacy import contact_erase

    ann = opted_in("+447700900123")
    send = sms_send_start(send=planned(admin_user, ann))

    contact_erase(contact=ann, by=admin_user, confirm=ann.email)

    delivery = SmsDelivery.objects.get(send=send)
    assert delivery.to == f"erased-{delivery.pk}" and delivery.status == "queued"
    assert not SmsConsent.objects.exists()
    assert sms_send_work(send_id=send.pk).skipped == 1 and not httpserver.log


def test_a_worker_that_stopped_mid_request_is_reconciled_not_resent(twilio, httpserver, admin_user):
    ann = opted_in("+447700900123")
    send = sms_send_start(send=planned(admin_user, ann))
    started = timezone.now() - timedelta(minutes=30)
    # A worker marked the message sending, then died before it could record the answer.
    SmsDelivery.objects.filter(send=send).update(status="sending", attempts=1, first_attempt_at=started)
    SmsDelivery.objects.filter(send=send).update(updated_at=started)
    found = created("SMdead", "+447700900123") | {"date_created": started.strftime("%a, %d %b %Y %H:%M:%S +0000")}
    httpserver.expect_oneshot_request(MESSAGES, method="GET").respond_with_json({"messages": [found]})

    report = sms_send_work(send_id=send.pk)

    delivery = SmsDelivery.objects.get()
    assert report.accepted == 0 and (delivery.status, delivery.message_id) == ("accepted", "SMdead")
    send.refresh_from_db()
    assert send.status == "completed"


def test_a_send_under_way_is_named_as_needing_an_sms_provider(twilio, admin_user):
    from gateways.readiness import capability_uses
    from gateways.selectors import health_report

    send = sms_send_start(send=planned(admin_user, opted_in("+447700900123")))

    assert f"SMS “{send.campaign.name}” is sending" in capability_uses()[Capability.SMS_SENDING]
    report = next(r for r in health_report() if r.capability == Capability.SMS_SENDING)
    assert report.in_use and f"SMS “{send.campaign.name}” is sending" in report.uses
