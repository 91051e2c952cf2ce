"""SNS message signatures, checked against a certificate served by a local server and messages signed
with its key by gateways.testing.sns (which writes SNS's string to sign out on its own)."""

import base64
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from gateways.sns import SnsMessageInvalid, confirm_subscription, sns_url_allowed, verify_message
from gateways.testing.sns import SnsSigner, ses_bounce

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("version", ["1", "2"])
def test_a_message_sns_signed_is_accepted(sns_signer, version):
    verify_message(sns_signer.notification(ses_bounce("gone@example.com"), version=version))


def test_a_notification_with_a_subject_is_signed_with_it(sns_signer):
    verify_message(sns_signer.notification(ses_bounce("gone@example.com"), Subject="Amazon SES Email Event"))


@pytest.mark.parametrize("field,value", [("Message", '{"notificationType":"Bounce"}'), ("MessageId", "other"),
                                         ("TopicArn", "arn:aws:sns:us-east-1:999999999999:theirs"),
                                         ("Subject", "added after signing")])
def test_a_flipped_field_is_refused(sns_signer, field, value):
    message = {**sns_signer.notification(ses_bounce("gone@example.com")), field: value}
    with pytest.raises(SnsMessageInvalid, match="does not match"):
        verify_message(message)


def test_a_flipped_signature_byte_is_refused(sns_signer):
    message = sns_signer.notification(ses_bounce("gone@example.com"))
    raw = bytearray(base64.b64decode(message["Signature"]))
    raw[10] ^= 0x01
    message["Signature"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(SnsMessageInvalid, match="does not match"):
        verify_message(message)


def test_an_old_message_is_refused_before_any_certificate_is_fetched(sns_signer, settings):
    settings.GATEWAYS_SNS_TOLERANCE_SECONDS = 3600
    old = sns_signer.notification(ses_bounce("gone@example.com"),
                                  timestamp=datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(SnsMessageInvalid, match="tolerance"):
        verify_message(old)
    ahead = sns_signer.notification(ses_bounce("gone@example.com"),
                                    timestamp=datetime.now(UTC) + timedelta(hours=2))
    with pytest.raises(SnsMessageInvalid, match="tolerance"):
        verify_message(ahead)
    assert sns_signer.cert_requests() == 0


@pytest.mark.parametrize("cert_url", [
    "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-1.pem",
    "https://evil.example/SimpleNotificationService-1.pem",
    "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
    "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-1.pem",
    "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-1.txt",
    "https://user@sns.us-east-1.amazonaws.com/SimpleNotificationService-1.pem",
])
def test_a_certificate_from_anywhere_but_an_sns_host_is_refused_unfetched(sns_signer, cert_url):
    message = sns_signer.notification(ses_bounce("gone@example.com"), SigningCertURL=cert_url)
    with pytest.raises(SnsMessageInvalid, match="SigningCertURL"):
        verify_message(message)
    assert sns_signer.cert_requests() == 0


def test_production_accepts_sns_hosts_only(settings):
    settings.GATEWAYS_SNS_TEST_ORIGIN = ""
    assert sns_url_allowed("https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa.pem", pem=True)
    assert sns_url_allowed("https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-1.pem", pem=True)
    assert not sns_url_allowed("http://127.0.0.1:8000/SimpleNotificationService-test.pem", pem=True)


def test_a_message_signed_by_another_key_is_refused(sns_signer):
    forger = SnsSigner.__new__(SnsSigner)  # signs with a key of its own, naming the served certificate
    forger.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forger.cert_url = sns_signer.cert_url
    message = forger.sign(sns_signer.notification(ses_bounce("gone@example.com")))
    with pytest.raises(SnsMessageInvalid, match="does not match"):
        verify_message(message)


def test_the_certificate_is_fetched_once(sns_signer):
    for _ in range(3):
        verify_message(sns_signer.notification(ses_bounce("gone@example.com")))
    assert sns_signer.cert_requests() == 1


def test_a_subscription_is_confirmed_on_sns_only(sns_signer, httpserver):
    httpserver.expect_request("/confirm").respond_with_data("<ConfirmSubscriptionResponse/>")
    message = sns_signer.subscription_confirmation(httpserver.url_for("/confirm") + "?Token=2336412f37fb687f5d51e6e2")
    verify_message(message)
    confirm_subscription(message)
    assert [request.args.get("Token") for request, _ in httpserver.log if request.path == "/confirm"] == [
        "2336412f37fb687f5d51e6e2"]

    foreign = sns_signer.subscription_confirmation("https://evil.example/confirm")
    verify_message(foreign)  # genuinely signed, yet we GET only SNS
    with pytest.raises(SnsMessageInvalid, match="SubscribeURL"):
        confirm_subscription(foreign)


def test_an_unknown_type_or_signature_version_is_refused(sns_signer):
    with pytest.raises(SnsMessageInvalid, match="SignatureVersion"):
        verify_message({**sns_signer.notification(ses_bounce("gone@example.com")), "SignatureVersion": "3"})
    with pytest.raises(SnsMessageInvalid, match="type"):
        verify_message({**sns_signer.notification(ses_bounce("gone@example.com")), "Type": "Other"})
