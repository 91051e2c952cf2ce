"""Twilio's Messages API replayed (https://www.twilio.com/docs/messaging/api/message-resource): the
form-encoded create with basic auth, its 201 answer, the documented error codes, the list filtered by
To and DateSent>= that reconciles an unknown outcome, and the account read the self-check makes."""

import base64
from datetime import UTC, datetime
from urllib.parse import parse_qs

import pytest

from gateways.adapters.twilio_sms import TwilioSmsAdapter
from gateways.capabilities import OutgoingSms
from gateways.errors import OutcomeUnknown, ProviderRejected, ProviderUnavailable, RateLimited

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "f3c1a2b9d8e7c6b5a4f3e2d1c0b9a8e7"
AUTH = {"Authorization": "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()}
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"


def message(sid="SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", status="queued", **fields) -> dict:
    return {"sid": sid, "account_sid": SID, "to": "+447700900123", "from": "+15005550006",
            "body": "Spring sale: 20% off", "status": status, "num_segments": "1", "direction": "outbound-api",
            "date_created": "Mon, 07 Dec 2026 05:00:10 +0000", "date_sent": None, "error_code": None,
            "error_message": None, "uri": f"{MESSAGES[:-5]}/{sid}.json", **fields}


def twilio_error(code: int, text: str, status: int) -> dict:
    return {"code": code, "message": text, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status}


@pytest.fixture
def twilio(make_adapter):
    return make_adapter(TwilioSmsAdapter, settings={"account_sid": SID, "from_number": "+15005550006"},
                        credentials={"auth_token": TOKEN})


def form_of(request) -> dict:
    return {key: values[0] for key, values in parse_qs(request.get_data(as_text=True)).items()}


def test_a_message_is_created_form_encoded_with_basic_auth(twilio, httpserver):
    httpserver.expect_request(MESSAGES, method="POST", headers=AUTH).respond_with_json(message(), status=201)

    receipt = twilio.send(OutgoingSms(to="+447700900123", body="Spring sale: 20% off",
                                      status_callback="https://aicmo.example/sms/status/"))

    request, _response = httpserver.log[0]
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert form_of(request) == {"To": "+447700900123", "From": "+15005550006", "Body": "Spring sale: 20% off",
                                "StatusCallback": "https://aicmo.example/sms/status/"}
    assert (receipt.message_id, receipt.status, receipt.segments, receipt.provider) == (
        "SM1f0e2d3c4b5a69788796a5b4c3d2e1f0", "queued", 1, "primary")


def test_a_messaging_service_sends_instead_of_a_number(make_adapter, httpserver):
    twilio = make_adapter(TwilioSmsAdapter, settings={"account_sid": SID, "messaging_service_sid": "MG9f8e"},
                          credentials={"auth_token": TOKEN})
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(message(status="accepted"), status=201)

    assert twilio.send(OutgoingSms(to="+447700900123", body="Hi")).status == "accepted"
    assert form_of(httpserver.log[0][0]) == {"To": "+447700900123", "Body": "Hi", "MessagingServiceSid": "MG9f8e"}


def test_an_invalid_number_is_refused_with_its_code(twilio, httpserver):
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(
        twilio_error(21211, "The 'To' number +4477 is not a valid phone number.", 400), status=400)

    with pytest.raises(ProviderRejected) as caught:
        twilio.send(OutgoingSms(to="+4477", body="Hi"))

    assert caught.value.details == {"code": 21211}
    assert "21211" in caught.value.message and "E.164" in caught.value.advice


def test_an_unsubscribed_recipient_is_refused_as_opted_out(twilio, httpserver):
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(
        twilio_error(21610, "Attempt to send to unsubscribed recipient", 400), status=400)

    with pytest.raises(ProviderRejected) as caught:
        twilio.send(OutgoingSms(to="+447700900123", body="Hi"))

    assert caught.value.details == {"code": 21610, "opted_out": True}


def test_a_wrong_token_is_unavailable_and_never_shown(twilio, httpserver):
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(
        twilio_error(20003, f"Authenticate {TOKEN}", 401), status=401)

    with pytest.raises(ProviderUnavailable) as caught:
        twilio.send(OutgoingSms(to="+447700900123", body="Hi"))

    assert not isinstance(caught.value, RateLimited)
    assert "20003" in caught.value.message and caught.value.status == 401
    assert TOKEN not in str(caught.value) and "auth token" in caught.value.advice


@pytest.mark.parametrize("code", [20429, None])
def test_too_many_requests_says_when_to_come_back(twilio, httpserver, code):
    body = twilio_error(code, "Too Many Requests", 429) if code else {"message": "Too Many Requests"}
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(body, status=429,
                                                                          headers={"Retry-After": "7"})

    with pytest.raises(RateLimited) as caught:
        twilio.send(OutgoingSms(to="+447700900123", body="Hi"))

    assert caught.value.retry_after == 7.0


def test_a_server_error_is_unavailable(twilio, httpserver):
    httpserver.expect_request(MESSAGES, method="POST").respond_with_json(
        twilio_error(20500, "Internal Server Error", 500), status=500)

    with pytest.raises(ProviderUnavailable) as caught:
        twilio.send(OutgoingSms(to="+447700900123", body="Hi"))

    assert caught.value.status == 500 and not isinstance(caught.value, ProviderRejected)


def test_no_answer_in_time_leaves_the_outcome_unknown(make_adapter, answers_late):
    answers_late(MESSAGES)
    twilio = make_adapter(TwilioSmsAdapter, settings={"account_sid": SID, "from_number": "+15005550006"},
                          credentials={"auth_token": TOKEN}, timeout=0.3)

    with pytest.raises(OutcomeUnknown):
        twilio.send(OutgoingSms(to="+447700900123", body="Hi"))


def test_lookup_finds_the_message_sent_since_the_first_attempt(twilio, httpserver):
    older = message("SMold", date_created="Sun, 06 Dec 2026 09:00:00 +0000")
    other = message("SMother", body="Something else")
    ours = message("SMours", status="sent")
    httpserver.expect_ordered_request(MESSAGES, method="GET", headers=AUTH, query_string={
        "To": "+447700900123", "DateSent>": "2026-12-07", "PageSize": "50"}).respond_with_json(
        {"messages": [other], "next_page_uri": f"{MESSAGES}?To=%2B447700900123&Page=1&PageToken=PAx"})
    httpserver.expect_ordered_request(MESSAGES, method="GET", query_string={
        "To": "+447700900123", "Page": "1", "PageToken": "PAx"}).respond_with_json(
        {"messages": [older, ours], "next_page_uri": None})

    found = twilio.lookup(to="+447700900123", body="Spring sale: 20% off",
                          sent_after=datetime(2026, 12, 7, 5, 0, 9, 500000, tzinfo=UTC))

    assert (found.message_id, found.status) == ("SMours", "sent")


def test_lookup_answers_none_when_twilio_holds_no_such_message(twilio, httpserver):
    httpserver.expect_request(MESSAGES, method="GET").respond_with_json({"messages": [], "next_page_uri": None})

    assert twilio.lookup(to="+447700900123", body="Hi", sent_after=datetime(2026, 12, 7, tzinfo=UTC)) is None


def test_probe_reads_the_account(twilio, httpserver):
    httpserver.expect_request(f"/2010-04-01/Accounts/{SID}.json", headers=AUTH).respond_with_json(
        {"sid": SID, "friendly_name": "Acme marketing", "status": "active"})

    assert twilio.probe().detail == "account Acme marketing is active"
