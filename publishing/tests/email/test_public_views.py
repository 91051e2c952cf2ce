import json
import time

import pytest
from django.test import Client

from crm.choices import ConsentStatus, EventKind, LifecycleStatus
from crm.models import EngagementEvent, Suppression
from publishing.email import webhooks
from publishing.email.models import EmailDelivery, EmailLink, InboundEvent, TrackingHit
from publishing.email.services.tracking import fold_tracking_hits
from publishing.email.tokens import make_token
from publishing.tests.email.conftest import WEBHOOK_SECRET
from publishing.tests.email.factories import EmailDeliveryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivery():
    return EmailDeliveryFactory(message_id="<1.1.abc@mail.aicmo.example>")


@pytest.fixture
def link(delivery):
    return EmailLink.objects.create(campaign_id=delivery.campaign_id, url="https://example.org/launch?a=1&b=2",
                                    url_hash="h1")


def click_url(delivery_id, link_id):
    return f"/t/c/{make_token('click', delivery_id, link_id)}"


def test_click_redirects_to_the_campaign_link_and_records_engagement(client, delivery, link):
    response = client.get(click_url(delivery.pk, link.pk))
    assert response.status_code == 302 and response["Location"] == link.url
    assert fold_tracking_hits() == 1
    delivery.refresh_from_db()
    assert delivery.click_count == 1 and delivery.first_clicked_at and delivery.first_opened_at
    delivery.contact.refresh_from_db()
    assert delivery.contact.lifecycle_status == LifecycleStatus.ENGAGED
    event = EngagementEvent.objects.get(contact=delivery.contact, kind=EventKind.CLICKED)
    assert event.campaign_id == delivery.campaign_id and event.detail["url"] == link.url


def test_second_click_counts_but_keeps_the_first_time(client, delivery, link):
    client.get(click_url(delivery.pk, link.pk))
    fold_tracking_hits()
    first = EmailDelivery.objects.get(pk=delivery.pk).first_clicked_at
    client.get(click_url(delivery.pk, link.pk))
    fold_tracking_hits()
    delivery.refresh_from_db()
    assert delivery.click_count == 2 and delivery.first_clicked_at == first


def test_another_campaigns_link_is_not_followed(client, delivery):
    foreign = EmailLink.objects.create(campaign=EmailDeliveryFactory().campaign, url="https://evil.example/",
                                       url_hash="h2")
    assert client.get(click_url(delivery.pk, foreign.pk)).status_code == 404
    assert client.head(click_url(delivery.pk, foreign.pk)).status_code == 404
    assert not TrackingHit.objects.exists()


@pytest.mark.parametrize("tamper", [
    lambda token: token[:-2] + ("xx" if not token.endswith("xx") else "yy"),  # altered signature
    lambda token: f"{int(token.split('-')[0], 16) + 1:x}-{token.split('-')[1]}",  # someone else's delivery
    lambda token: "//evil.example",
    lambda token: "javascript:alert(1)",
])
def test_forged_or_altered_click_tokens_are_404(client, delivery, link, tamper):
    response = client.get(f"/t/c/{tamper(make_token('click', delivery.pk, link.pk))}")
    assert response.status_code == 404
    assert not TrackingHit.objects.exists()
    fold_tracking_hits()
    assert EngagementEvent.objects.count() == 0


def test_an_added_url_parameter_is_ignored(client, delivery, link):
    response = client.get(click_url(delivery.pk, link.pk) + "?url=https://evil.example/")
    assert response["Location"] == link.url


def test_a_link_stored_with_a_dangerous_scheme_is_never_followed(client, delivery):
    bad = EmailLink.objects.create(campaign_id=delivery.campaign_id, url="javascript:alert(1)", url_hash="h3")
    assert client.get(click_url(delivery.pk, bad.pk)).status_code == 404
    assert client.head(click_url(delivery.pk, bad.pk)).status_code == 404
    assert not TrackingHit.objects.exists()


def test_open_pixel_records_the_open_and_answers_a_gif(client, delivery):
    response = client.get(f"/t/o/{make_token('open', delivery.pk)}")
    assert response.status_code == 200 and response["Content-Type"] == "image/gif"
    assert "no-cache" in response["Cache-Control"]
    assert fold_tracking_hits() == 1
    delivery.refresh_from_db()
    assert delivery.open_count == 1 and delivery.first_opened_at
    assert EngagementEvent.objects.filter(contact=delivery.contact, kind=EventKind.OPENED).count() == 1


def test_open_pixel_with_a_forged_token_records_nothing(client, delivery):
    assert client.get(f"/t/o/{make_token('click', delivery.pk, 1)}").status_code == 200
    assert not TrackingHit.objects.exists()
    fold_tracking_hits()
    assert EngagementEvent.objects.count() == 0


def test_head_on_the_pixel_and_the_link_records_nothing_but_still_redirects(client, delivery, link):
    # Link scanners and mail prefetchers send HEAD: they are no one's open or click.
    assert client.head(f"/t/o/{make_token('open', delivery.pk)}").status_code == 200
    response = client.head(click_url(delivery.pk, link.pk))
    assert response.status_code == 302 and response["Location"] == link.url
    assert not TrackingHit.objects.exists()


def test_a_hit_is_one_insert_and_changes_nothing_until_folded(client, delivery, link, django_assert_num_queries):
    with django_assert_num_queries(1):
        client.get(f"/t/o/{make_token('open', delivery.pk)}")
    with django_assert_num_queries(1):  # the hit, appended only for a link of the delivery's campaign
        client.get(click_url(delivery.pk, link.pk))
    assert list(TrackingHit.objects.values_list("kind", "delivery_id", "link_id")) == [
        ("open", delivery.pk, None), ("click", delivery.pk, link.pk)]
    assert (EmailDelivery.objects.get(pk=delivery.pk).open_count, EngagementEvent.objects.count()) == (0, 0)
    assert fold_tracking_hits() == 2 and fold_tracking_hits() == 0
    delivery.refresh_from_db()
    assert (delivery.open_count, delivery.click_count) == (1, 1) and not TrackingHit.objects.exists()
    assert sorted(EngagementEvent.objects.values_list("kind", flat=True)) == [EventKind.CLICKED, EventKind.OPENED]


def test_the_fold_keeps_each_hits_own_time_and_drops_hits_of_deleted_deliveries(client, delivery, link):
    client.get(click_url(delivery.pk, link.pk))
    answered = TrackingHit.objects.get().occurred_at
    gone = EmailDeliveryFactory()
    client.get(f"/t/o/{make_token('open', gone.pk)}")
    gone.delete()
    assert fold_tracking_hits() == 1 and not TrackingHit.objects.exists()
    delivery.refresh_from_db()
    assert delivery.first_clicked_at == delivery.first_opened_at == answered
    assert EngagementEvent.objects.get().occurred_at == answered


def test_get_and_head_on_unsubscribe_never_unsubscribe(client, delivery):
    url = f"/u/{make_token('unsubscribe', delivery.pk)}"
    page = client.get(url)
    assert page.status_code == 200 and b"Unsubscribe?" in page.content and b'method="post"' in page.content
    assert client.head(url).status_code == 200
    delivery.contact.refresh_from_db()
    assert delivery.contact.consent_status == ConsentStatus.SUBSCRIBED
    assert not Suppression.objects.exists()


@pytest.mark.parametrize("multipart", [False, True])
def test_one_click_post_unsubscribes_without_cookies_or_csrf_and_answers_200(delivery, multipart):
    client = Client(enforce_csrf_checks=True)
    url = f"/u/{make_token('unsubscribe', delivery.pk)}"
    if multipart:
        response = client.post(url, {"List-Unsubscribe": "One-Click"})
    else:
        response = client.post(url, "List-Unsubscribe=One-Click", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 200
    delivery.contact.refresh_from_db()
    assert delivery.contact.consent_status == ConsentStatus.UNSUBSCRIBED
    assert Suppression.objects.filter(value=delivery.contact.email).exists()
    assert EngagementEvent.objects.filter(contact=delivery.contact, kind=EventKind.UNSUBSCRIBED).count() == 1


def test_unsubscribe_with_a_forged_token_is_404(client, delivery):
    assert client.post(f"/u/{make_token('open', delivery.pk)}").status_code == 404


def post_event(client, payload: dict, *, msg_id="evt_1", secret=WEBHOOK_SECRET, timestamp=None, body=None):
    body = body if body is not None else json.dumps(payload).encode()
    timestamp = int(time.time()) if timestamp is None else timestamp
    signature = webhooks.sign(secret=secret, msg_id=msg_id, timestamp=timestamp, body=json.dumps(payload).encode())
    return client.post("/email/events", body, content_type="application/json",
                       headers={"webhook-id": msg_id, "webhook-timestamp": str(timestamp),
                                "webhook-signature": signature})


def test_signed_bounce_event_marks_the_contact_bounced_once(client, delivery):
    payload = {"type": "email.bounced", "data": {"message_id": delivery.message_id, "bounce_type": "hard",
                                                 "diagnostic": "550 5.1.1 user unknown"}}
    response = post_event(client, payload)
    assert response.status_code == 200 and response.json()["status"] == "applied"
    delivery.contact.refresh_from_db()
    assert delivery.contact.lifecycle_status == LifecycleStatus.BOUNCED
    replay = post_event(client, payload)
    assert replay.status_code == 200 and replay.json()["status"] == "ignored"
    assert EngagementEvent.objects.filter(kind=EventKind.BOUNCED).count() == 1
    assert InboundEvent.objects.count() == 1


def test_signed_complaint_event_suppresses_the_contact(client, delivery):
    post_event(client, {"type": "email.complained", "data": {"email": delivery.contact.email}})
    delivery.contact.refresh_from_db()
    assert delivery.contact.consent_status == ConsentStatus.UNSUBSCRIBED
    assert Suppression.objects.filter(value=delivery.contact.email).exists()
    assert EngagementEvent.objects.filter(contact=delivery.contact, kind=EventKind.COMPLAINED).exists()


@pytest.mark.parametrize("tamper", ["flipped_byte", "wrong_secret", "five_minutes_old", "five_minutes_ahead"])
def test_bad_signatures_and_stale_timestamps_are_401(client, delivery, tamper):
    payload = {"type": "email.bounced", "data": {"message_id": delivery.message_id}}
    kwargs = {}
    if tamper == "flipped_byte":
        kwargs["body"] = json.dumps(payload).replace("bounced", "bouncec").encode()
    elif tamper == "wrong_secret":
        kwargs["secret"] = "whsec_b3RoZXItc2VjcmV0LW9mLWVub3VnaC1sZW5ndGg="
    elif tamper == "five_minutes_old":
        kwargs["timestamp"] = int(time.time()) - 360  # a clear minute past the 300 s tolerance
    else:
        kwargs["timestamp"] = int(time.time()) + 360
    assert post_event(client, payload, **kwargs).status_code == 401
    delivery.contact.refresh_from_db()
    assert delivery.contact.lifecycle_status != LifecycleStatus.BOUNCED
    assert not InboundEvent.objects.exists()


def test_unknown_event_type_is_400(client, delivery):
    assert post_event(client, {"type": "email.exploded", "data": {}}).status_code == 400
