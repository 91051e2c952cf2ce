"""An SMS send started from its service is sent by a real django-q2 worker to the local Twilio contract
server, once, and the send completes."""

import pytest

from aicmo_site.testing.worker import wait_for
from crm.services import sms_consent_set
from crm.tests.factories import ContactFactory, TagFactory
from gateways.capabilities import Capability
from gateways.tests.factories import ProviderAccountFactory
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.sms.services import sms_send_plan, sms_send_start

pytestmark = [pytest.mark.worker]
SID = "AC0123456789abcdef0123456789abcdef"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


def test_a_real_worker_sends_each_message_once(qcluster, httpserver, make_user):
    ProviderAccountFactory(capability=Capability.SMS_SENDING, adapter="twilio", name="twilio",
                           base_url=httpserver.url_for("").rstrip("/"),
                           settings={"account_sid": SID, "from_number": "+15005550006"},
                           credentials={"auth_token": "0f1e2d3c4b5a69788796a5b4c3d2e1f0"})
    tag = TagFactory(name="sms")
    for n, number in enumerate(("+447700900101", "+447700900102")):
        ContactFactory(phone=number, tags=[tag])
        sms_consent_set(number=number, status="opted_in", source="Signed up")
        httpserver.expect_oneshot_request(MESSAGES, method="POST", data=None).respond_with_json(
            {"sid": f"SM{n}", "status": "queued", "num_segments": "1", "to": number}, status=201)
    send = sms_send_plan(by=make_user("ada", role="Admin"), name="Spring", audience={"tag_ids": [tag.pk]},
                         body="Spring sale. Reply STOP to opt out")
    qcluster(SMS_QUIET_HOURS_START="0", SMS_QUIET_HOURS_END="0", PUBLIC_BASE_URL="https://aicmo.example")

    sms_send_start(send=send)

    wait_for(lambda: SmsSend.objects.get(pk=send.pk).status == "completed", message="the send to complete")
    assert sorted(SmsDelivery.objects.values_list("status", "message_id")) == [("accepted", "SM0"),
                                                                            ("accepted", "SM1")]
    httpserver.check_assertions()
    assert len(httpserver.log) == 2
