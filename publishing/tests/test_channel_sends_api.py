"""/api/sms-sends/ and /api/push-sends/: created for a list or segment and a message, previewed, started,
canceled, listed with their delivery counts in a fixed number of queries, and paged per recipient."""

import pytest

from aicmo_site.roles import ANALYST, MARKETER
from crm.models import PushSubscription
from crm.services import sms_consent_set
from crm.tests.factories import ContactFactory, ContactListFactory, SegmentFactory
from gateways.capabilities import Capability
from gateways.tests.factories import ProviderAccountFactory
from publishing.push.choices import PushDeliveryStatus
from publishing.push.models import PushDelivery, PushSend
from publishing.sms.choices import SmsDeliveryStatus
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db
BODY = "Acme: spring sale, 20% off until Sunday. Reply STOP to opt out"


@pytest.fixture
def twilio():
    return ProviderAccountFactory(capability=Capability.SMS_SENDING, adapter="twilio", name="twilio",
                                  base_url="https://api.twilio.example",
                                  settings={"account_sid": "AC" + "0" * 32, "from_number": "+15005550006"},
                                  credentials={"auth_token": "0" * 32})


def textable(phone: str):
    contact = ContactFactory(phone=phone)
    sms_consent_set(number=phone, status="opted_in", source="Signed up at the stand")
    return contact


def browser(contact, name: str) -> PushSubscription:
    return PushSubscription.objects.create(endpoint=f"https://fcm.example/{name}", p256dh="BPk", auth="au",
                                           contact=contact)


def test_an_sms_send_is_created_for_a_list_previewed_started_and_paged(api_as, twilio,
                                                                        django_capture_on_commit_callbacks):
    client = api_as(MARKETER)
    people = [textable(f"+4477009001{n:02d}") for n in range(3)] + [ContactFactory(phone="")]
    on_list = ContactListFactory(members=people)

    preview = client.post("/api/sms-sends/preview/", {"audience": {"list_ids": [on_list.pk]}, "body": BODY + " €"},
                          format="json").json()
    assert preview["length"] == {"encoding": "GSM-7", "units": len(BODY) + 3, "segments": 1, "per_segment": 160,
                                 "non_gsm": []}
    assert preview["audience"] == {"picked": 4, "textable": 3, "left_out": 1}
    emoji = client.post("/api/sms-sends/preview/", {"body": "Sale 🌷" * 12}, format="json").json()
    assert emoji["length"]["encoding"] == "UCS-2" and emoji["length"]["segments"] == 2 and "🌷" in \
        emoji["length"]["non_gsm"]

    created = client.post("/api/sms-sends/", {"name": "Spring sale", "audience": {"list_ids": [on_list.pk]},
                                              "body": BODY}, format="json")
    assert created.status_code == 201, created.json()
    send = created.json()
    assert (send["status"], send["campaign_name"], send["available_actions"]) == ("draft", "Spring sale",
                                                                                  ["send", "cancel"])
    assert SmsSend.objects.get(pk=send["id"]).campaign.audience == {"list_ids": [on_list.pk]}

    with django_capture_on_commit_callbacks(execute=False) as wakes:
        started = client.post(f"/api/sms-sends/{send['id']}/start/")
    assert started.status_code == 200 and len(wakes) == 1
    assert (started.json()["status"], started.json()["audience_size"], started.json()["left_out"]) == \
        ("sending", 3, 1)
    assert started.json()["counts"]["queued"] == 3
    again = client.post(f"/api/sms-sends/{send['id']}/start/")
    assert again.status_code == 409

    SmsDelivery.objects.filter(to="+447700900100").update(status=SmsDeliveryStatus.DELIVERED)
    page = client.get(f"/api/sms-sends/{send['id']}/deliveries/", {"page_size": 2}).json()
    assert page["count"] == 3 and len(page["results"]) == 2 and page["next"]
    delivered = client.get(f"/api/sms-sends/{send['id']}/deliveries/", {"status": "delivered"}).json()
    assert [row["to"] for row in delivered["results"]] == ["+447700900100"]
    both = client.get(f"/api/sms-sends/{send['id']}/deliveries/?status=delivered&status=queued").json()
    assert both["count"] == 3
    bad = client.get(f"/api/sms-sends/{send['id']}/deliveries/", {"status": "exploded"})
    assert bad.status_code == 400 and "status" in bad.json()["fields"]

    canceled = client.post(f"/api/sms-sends/{send['id']}/cancel/").json()
    assert canceled["status"] == "canceled"
    assert canceled["counts"] == {**{value: 0 for value in SmsDeliveryStatus.values}, "delivered": 1,
                                       "canceled": 2}


def test_an_sms_send_needs_an_audience_a_text_and_a_provider(api_as):
    client = api_as(MARKETER)
    segment = SegmentFactory()

    nobody = client.post("/api/sms-sends/", {"name": "X", "audience": {}, "body": BODY}, format="json")
    assert nobody.status_code == 400 and "audience" in nobody.json()["fields"]
    blank = client.post("/api/sms-sends/", {"name": "X", "audience": {"segment_ids": [segment.pk]}, "body": "  "},
                        format="json")
    assert blank.status_code == 400
    send = client.post("/api/sms-sends/", {"name": "X", "audience": {"segment_ids": [segment.pk]}, "body": BODY},
                       format="json").json()
    refused = client.post(f"/api/sms-sends/{send['id']}/start/")
    assert refused.status_code == 409 and "No SMS" in refused.json()["message"]


def test_an_analyst_reads_sends_but_cannot_create_or_start_them(api_as, twilio):
    marketer, analyst = api_as(MARKETER), api_as(ANALYST)
    segment = SegmentFactory()
    send = marketer.post("/api/sms-sends/", {"name": "X", "audience": {"segment_ids": [segment.pk]},
                                             "body": BODY}, format="json").json()

    assert analyst.get(f"/api/sms-sends/{send['id']}/").json()["available_actions"] == []
    assert analyst.post("/api/sms-sends/", {"name": "Y", "audience": {"segment_ids": [segment.pk]},
                                            "body": BODY}, format="json").status_code == 403
    assert analyst.post(f"/api/sms-sends/{send['id']}/start/").status_code == 403


def _sms_sends(count: int, by) -> None:
    for n in range(count):
        send = SmsSend.objects.create(campaign=CampaignFactory(name=f"SMS {n}"), body=BODY, requested_by=by)
        for m, status in enumerate(["queued", "accepted", "delivered"]):
            SmsDelivery.objects.create(send=send, to=f"+4477009{n:02d}{m:03d}", status=status)


def test_sms_sends_are_listed_with_counts_in_a_fixed_number_of_queries(api_as, django_assert_num_queries):
    client = api_as(ANALYST)
    _sms_sends(2, client.user)
    client.get("/api/sms-sends/")  # the user's permissions are read once, then cached on the user

    def listed():
        with django_assert_num_queries(2) as captured:  # count, one page of sends with their counts
            response = client.get("/api/sms-sends/")
        return response.json(), len(captured.captured_queries)

    few, few_queries = listed()
    _sms_sends(4, client.user)
    many, many_queries = listed()

    assert few_queries == many_queries and many["count"] == 6
    assert many["results"][0]["counts"]["delivered"] == 1 and many["results"][0]["counts"]["queued"] == 1
    assert client.get("/api/sms-sends/", {"status": "sending"}).json()["count"] == 0


def test_a_push_send_is_created_for_a_segment_previewed_started_and_paged(api_as,
                                                                          django_capture_on_commit_callbacks):
    client = api_as(MARKETER)
    ann, bob, cy = ContactFactory(city="Leeds"), ContactFactory(city="Leeds"), ContactFactory(city="Leeds")
    browser(ann, "ann-laptop"), browser(ann, "ann-phone"), browser(bob, "bob")
    segment = SegmentFactory(rules={"op": "and", "rules": [{"field": "city", "operator": "eq", "value": "Leeds"}]})
    audience = {"segment_ids": [segment.pk]}

    preview = client.post("/api/push-sends/preview/", {"audience": audience}, format="json")
    assert preview.json() == {"audience": {"picked": 3, "browsers": 3, "reached": 2}}, cy
    created = client.post("/api/push-sends/", {"name": "Spring", "audience": audience, "title": "Spring sale",
                                               "url": "https://acme.example/sale"}, format="json")
    assert created.status_code == 201, created.json()
    send_id = created.json()["id"]
    no_title = client.post("/api/push-sends/", {"name": "Spring", "audience": audience, "title": ""}, format="json")
    assert no_title.status_code == 400 and "title" in no_title.json()["fields"]

    with django_capture_on_commit_callbacks(execute=False):
        started = client.post(f"/api/push-sends/{send_id}/start/").json()
    assert (started["status"], started["audience_size"], started["counts"]["queued"]) == ("sending", 3, 3)

    PushDelivery.objects.filter(subscription__endpoint__endswith="bob").update(status=PushDeliveryStatus.EXPIRED)
    expired = client.get(f"/api/push-sends/{send_id}/deliveries/", {"status": "expired"}).json()
    assert expired["count"] == 1 and expired["results"][0]["contact"] == bob.pk
    listed = client.get("/api/push-sends/").json()
    assert listed["results"][0]["counts"] == {**{value: 0 for value in PushDeliveryStatus.values},
                                                   "queued": 2, "expired": 1}
    assert client.post(f"/api/push-sends/{send_id}/cancel/").json()["counts"]["canceled"] == 2
    assert PushSend.objects.get(pk=send_id).status == "canceled"
