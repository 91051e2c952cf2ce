"""The Amazon SES adapter against moto's server (a real HTTP endpoint checking SigV4 signatures), and
against pytest-httpserver where the exact request or a server fault matters."""

import base64
import email
import json
from datetime import UTC, datetime

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from gateways import services
from gateways.adapters.ses import SendQuota, SesAdapter, ses_message_ids
from gateways.aws import signed_headers
from gateways.capabilities import Capability, OutgoingEmail
from gateways.errors import (
    BudgetSpent,
    GatewayError,
    NoProviderAvailable,
    OutcomeUnknown,
    ProviderRejected,
    ProviderUnavailable,
    RateLimited,
)
from gateways.models import ProviderHealth
from gateways.testing.ses import DAILY_QUOTA_EXCEEDED, MAXIMUM_RATE_EXCEEDED, SEND_EMAIL_ERRORS, SesCredentials

pytestmark = pytest.mark.django_db
SENDER = "news@aicmo.example"
UNSUBSCRIBE = {"List-Unsubscribe": "<https://aicmo.example/u/tok>, <mailto:unsubscribe@aicmo.example?subject=u>",
               "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def message(n: int = 0, **fields) -> OutgoingEmail:
    return OutgoingEmail(**{"to": f"p{n}@example.com", "subject": "Spring news", "text": "Hello",
                            "html": "<p>Hello <a href='https://aicmo.example/t/c/x'>there</a></p>",
                            "message_id": f"<m{n}@mail.aicmo.example>", "headers": UNSUBSCRIBE, **fields})


def ses_account(server, *, name="ses", priority=10, credentials=None, **settings):
    return services.account_create(
        capability=Capability.EMAIL_SENDING, adapter="ses", name=name, priority=priority, base_url=server.url,
        settings={"region": "us-east-1", "from_email": SENDER, **settings},
        credentials=credentials or {"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": "s" * 40})


def adapter(base_url, **settings):
    return SesAdapter(name="ses", base_url=base_url, settings={"region": "eu-west-1", "from_email": SENDER, **settings},
                      credentials={"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": "s" * 40})


def test_the_signature_is_the_one_botocore_computes():
    now = datetime(2026, 12, 7, 1, 2, 3, tzinfo=UTC)
    url, body = "https://email.eu-west-1.amazonaws.com/v2/email/outbound-emails?b=2&a=1", b'{"x": 1}'
    headers = signed_headers(method="POST", url=url, body=body, region="eu-west-1", service="ses",
                             access_key_id="AKID", secret_access_key="secret",
                             headers={"Content-Type": "application/json"}, now=now)
    request = AWSRequest(method="POST", url=url, data=body,
                         headers={k: v for k, v in headers.items() if k != "Authorization"})
    request.context["timestamp"] = headers["X-Amz-Date"]
    auth = SigV4Auth(Credentials("AKID", "secret"), "ses", "eu-west-1")
    expected = auth.signature(auth.string_to_sign(request, auth.canonical_request(request)), request)
    assert headers["Authorization"].endswith(f"Signature={expected}")


def test_a_message_goes_out_as_the_raw_bytes_smtp_would_send(ses_server):
    ses_server.verify_sender(SENDER)
    ses_account(ses_server)
    with services.open_email_session() as session:
        receipt = session.send(message(return_path_tag="2a-9f"))

    (sent,) = ses_server.sent_messages()
    got = email.message_from_string(sent.raw_data)
    assert " ".join(got["List-Unsubscribe"].split()) == UNSUBSCRIBE["List-Unsubscribe"]  # folded between entries
    assert got["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert got["Message-ID"] == "<m0@mail.aicmo.example>"
    assert "https://aicmo.example/t/c/x" in sent.raw_data
    assert sent.destinations[0] == "p0@example.com"
    # SES puts its own Message-ID on the mail: the receipt names that one, which replies will quote.
    ses_id = receipt.response.removeprefix("SES MessageId ")
    assert receipt.message_id == f"<{ses_id}@email.amazonses.com>" == ses_message_ids(ses_id, "us-east-1")[0]
    assert ProviderHealth.objects.get(account__name="ses").calls == 2  # GetAccount on opening, then the send


def test_the_request_names_the_configuration_set_and_the_delivery_tag(httpserver):
    httpserver.expect_request("/v2/email/account", method="GET").respond_with_json(
        {"SendQuota": {"Max24HourSend": 50000, "MaxSendRate": 14, "SentLast24Hours": 10}, "SendingEnabled": True})
    httpserver.expect_request("/v2/email/outbound-emails", method="POST").respond_with_json(
        {"MessageId": "0102-abc"})
    session = adapter(httpserver.url_for("").rstrip("/"), configuration_set="marketing").open()
    receipt = session.send(message(return_path_tag="2a-9f"))

    sent = json.loads(httpserver.log[-1][0].get_data())
    assert sent["ConfigurationSetName"] == "marketing"
    assert sent["EmailTags"] == [{"Name": "aicmo-delivery", "Value": "2a-9f"}]
    assert sent["FromEmailAddress"] == SENDER and sent["Destination"] == {"ToAddresses": ["p0@example.com"]}
    assert b"List-Unsubscribe: <https://aicmo.example/u/tok>" in base64.b64decode(sent["Content"]["Raw"]["Data"])
    assert httpserver.log[-1][0].headers["Authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE0000/")
    assert receipt.message_id == "<0102-abc@eu-west-1.amazonses.com>"


def test_a_wrong_secret_or_unknown_key_is_refused_as_credentials(ses_server):
    with SesCredentials() as (key_id, secret):
        good = SesAdapter(name="ses", base_url=ses_server.url, settings={"region": "us-east-1"},
                          credentials={"access_key_id": key_id, "secret_access_key": secret})
        assert good.probe().ok  # moto recomputed our signature and found it right
        for key, wrong in ((key_id, secret[:-1] + ("A" if secret[-1] != "A" else "B")),
                           ("AKIAUNKNOWN000000000", secret)):
            bad = SesAdapter(name="ses", base_url=ses_server.url, settings={"region": "us-east-1"},
                             credentials={"access_key_id": key, "secret_access_key": wrong})
            with pytest.raises(ProviderUnavailable) as caught:
                bad.probe()
            assert caught.value.status == 403
            assert "access key" in caught.value.advice
            assert wrong not in str(caught.value)
    assert "SignatureDoesNotMatch" in str(caught.value) or "InvalidClientTokenId" in str(caught.value)


def test_throttling_is_a_retryable_refusal_that_holds_the_account_until_its_retry_time(ses_server):
    ses_server.verify_sender(SENDER)
    account = ses_account(ses_server)
    ses_server.state.throttle_sends = True
    with pytest.raises(NoProviderAvailable) as caught:  # retried later, like any passing outage
        with services.open_email_session() as session:
            session.send(message())
    (throttled,) = caught.value.attempts
    assert isinstance(throttled, RateLimited) and throttled.status == 429 and throttled.retry_after
    health = ProviderHealth.objects.get(account=account)
    assert health.open_reason == "rate_limit"  # held until the retry time, not for a breaker cool-down
    assert ses_server.sent_messages() == []


def test_a_used_up_daily_quota_sends_nothing_and_hands_the_mail_to_the_next_account(ses_server, smtp_server):
    ses_server.verify_sender(SENDER)
    ses = ses_account(ses_server, priority=1)
    services.account_create(capability=Capability.EMAIL_SENDING, adapter="smtp", name="relay", priority=2,
                            settings=smtp_server.adapter_settings(from_email=SENDER))
    ses_server.state.sent_last_24_hours = 200

    with services.open_email_session() as session:
        receipt = session.send(message())
    assert receipt.provider == "relay"
    assert ses_server.sent_messages() == []
    assert len(smtp_server.messages) == 1
    health = ProviderHealth.objects.get(account=ses)
    assert (health.failures, health.breaker_state) == (0, "closed")  # a refusal, not a failure


def test_the_quota_is_counted_down_within_a_session(ses_server):
    ses_server.verify_sender(SENDER)
    ses_account(ses_server)
    ses_server.state.sent_last_24_hours = 199  # one message left of 200
    with services.open_email_session() as session:
        session.send(message(1))
        with pytest.raises(NoProviderAvailable) as caught:  # the send waits for the quota, it does not pause
            session.send(message(2))
    assert "quota" in str(caught.value) and caught.value.retry_after == 3600
    assert len(ses_server.sent_messages()) == 1


def test_the_quota_answer_of_ses_itself_is_a_refusal(httpserver):
    httpserver.expect_request("/v2/email/account").respond_with_json(
        {"SendQuota": {"Max24HourSend": -1, "MaxSendRate": 14, "SentLast24Hours": 0}, "SendingEnabled": True})
    httpserver.expect_request("/v2/email/outbound-emails").respond_with_json(
        {"message": "Daily message quota exceeded."}, status=400,
        headers={"x-amzn-ErrorType": "LimitExceededException:http://internal.amazon.com/coral/"})
    session = adapter(httpserver.url_for("").rstrip("/")).open()
    with pytest.raises(BudgetSpent):
        session.send(message())


def test_sends_take_tokens_at_the_accounts_max_send_rate(ses_server):
    ses_server.verify_sender(SENDER)
    account = ses_account(ses_server)
    ses_server.state.max_send_rate = 2
    with services.open_email_session() as session:
        for n in range(3):
            session.send(message(n))
    health = ProviderHealth.objects.get(account=account)
    assert health.bucket_version == 3  # one token of the shared bucket per message
    assert health.bucket_tokens < 2


def test_an_unverified_sender_is_refused_for_the_message(ses_server):
    ses_account(ses_server)
    with pytest.raises(ProviderRejected) as caught:
        with services.open_email_session() as session:
            session.send(message())
    assert caught.value.status == 400 and "authority" in str(caught.value)


def test_disabled_sending_and_a_server_fault_are_outages(ses_server, httpserver):
    ses_server.state.sending_enabled = False
    with pytest.raises(ProviderUnavailable, match="disabled"):
        SesAdapter(name="ses", base_url=ses_server.url, settings={"region": "us-east-1"},
                   credentials={"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": "s" * 40}).open()
    httpserver.expect_request("/v2/email/account").respond_with_json({"message": "internal"}, status=500)
    with pytest.raises(ProviderUnavailable) as caught:
        adapter(httpserver.url_for("").rstrip("/")).open()
    assert caught.value.status == 500 and not isinstance(caught.value, RateLimited)


def test_no_answer_after_the_send_was_written_is_an_unknown_outcome(httpserver):
    httpserver.expect_request("/v2/email/account").respond_with_json(
        {"SendQuota": {"Max24HourSend": -1, "MaxSendRate": 14, "SentLast24Hours": 0}, "SendingEnabled": True})

    def slow(request):
        import time

        from werkzeug import Response
        time.sleep(1.5)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/v2/email/outbound-emails").respond_with_handler(slow)
    ses = SesAdapter(name="ses", base_url=httpserver.url_for("").rstrip("/"), timeout=0.5,
                     settings={"region": "eu-west-1", "from_email": SENDER},
                     credentials={"access_key_id": "AKIAEXAMPLE0000", "secret_access_key": "s" * 40})
    with pytest.raises(OutcomeUnknown):
        ses.open().send(message())


def test_an_internal_endpoint_is_refused_by_the_address_guard(settings):
    settings.GATEWAYS_ALLOW_PRIVATE_ADDRESSES = False
    with pytest.raises(ProviderUnavailable, match="refused to call"):
        adapter("http://127.0.0.1:9").probe()


def test_the_quota_reads_as_a_token_bucket_and_minus_one_as_no_daily_limit():
    assert SendQuota(200, 0.5, 0).pace() == (1, 2.0)
    assert SendQuota(50000, 14, 10).pace() == (14, 1.0)
    assert SendQuota(-1, 14, 10).remaining is None
    assert SendQuota(200, 1, 250).remaining == 0


@pytest.mark.parametrize(("code", "said", "expected"), [
    # Every error SESv2's service model declares for SendEmail (gateways.testing.ses.SEND_EMAIL_ERRORS) ...
    ("TooManyRequestsException", None, RateLimited),
    ("LimitExceededException", None, ProviderRejected),
    ("AccountSuspendedException", None, ProviderUnavailable),
    ("SendingPausedException", None, ProviderUnavailable),
    ("MessageRejected", None, ProviderRejected),
    ("MailFromDomainNotVerifiedException", None, ProviderUnavailable),
    ("BadRequestException", None, ProviderRejected),
    ("NotFoundException", None, ProviderUnavailable),
    # ... and the sending limits, which AWS documents by their message whatever the code carrying them
    # (https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html).
    ("ThrottlingException", DAILY_QUOTA_EXCEEDED, BudgetSpent),
    ("ThrottlingException", MAXIMUM_RATE_EXCEEDED, RateLimited),
    ("TooManyRequestsException", DAILY_QUOTA_EXCEEDED, BudgetSpent),
    ("LimitExceededException", MAXIMUM_RATE_EXCEEDED, RateLimited),
])
def test_each_documented_send_email_error_is_the_right_refusal(ses_server, code, said, expected):
    status, documented = SEND_EMAIL_ERRORS.get(code, (400, ""))
    ses_server.state.send_refusal = (code, status, said or documented)
    session = adapter(ses_server.url, region="us-east-1").open()

    with pytest.raises(GatewayError) as caught:
        session.send(message())

    assert type(caught.value) is expected, caught.value
    assert caught.value.status == status and code in str(caught.value)
    if expected is BudgetSpent:
        assert caught.value.retry_after == 3600
    assert ses_server.sent_messages() == []
