"""Signing SNS messages the way Amazon SNS does, for tests: an RSA key and a self-signed certificate
of our own, served by a local HTTP server that GATEWAYS_SNS_TEST_ORIGIN lets the verifier fetch from.

The string to sign is written out here on its own (from the SNS docs' lists of keys per message
type), not taken from gateways.sns, so a mistake there cannot hide itself in the tests.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID

TOPIC_ARN = "arn:aws:sns:us-east-1:123456789012:ses-feedback"
CERT_PATH = "/SimpleNotificationService-test.pem"
# The keys SNS signs, in order (docs "Verifying the signatures of Amazon SNS messages").
SIGNED_KEYS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}


def _certificate(key: rsa.RSAPrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sns.amazonaws.com")])
    now = datetime.now(UTC)
    certificate = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
                   .not_valid_after(now + timedelta(days=30)).sign(key, hashes.SHA256()))
    return certificate.public_bytes(serialization.Encoding.PEM)


class SnsSigner:
    def __init__(self, httpserver):
        self.httpserver = httpserver
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.pem = _certificate(self.key)
        httpserver.expect_request(CERT_PATH).respond_with_data(self.pem, content_type="application/x-pem-file")
        self.origin = httpserver.url_for("/").rstrip("/")
        self.cert_url = httpserver.url_for(CERT_PATH)

    def cert_requests(self) -> int:
        return sum(1 for request, _ in self.httpserver.log if request.path == CERT_PATH)

    def sign(self, message: dict, *, version: str = "1") -> dict:
        signed = {**message, "SignatureVersion": version, "SigningCertURL": message.get("SigningCertURL",
                                                                                          self.cert_url)}
        text = "".join(f"{key}\n{signed[key]}\n" for key in SIGNED_KEYS[signed["Type"]] if key in signed)
        digest = hashes.SHA1() if version == "1" else hashes.SHA256()  # noqa: S303 - SNS's version 1
        signed["Signature"] = base64.b64encode(self.key.sign(text.encode(), padding.PKCS1v15(), digest)).decode()
        return signed

    def notification(self, ses_body: dict, *, version: str = "1", topic_arn: str = TOPIC_ARN,
                     timestamp: datetime | None = None, message_id: str = "", **extra) -> dict:
        return self.sign({
            "Type": "Notification", "MessageId": message_id or str(uuid.uuid4()), "TopicArn": topic_arn,
            "Message": json.dumps(ses_body),
            "Timestamp": (timestamp or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe", **extra,
        }, version=version)

    def subscription_confirmation(self, subscribe_url: str, *, topic_arn: str = TOPIC_ARN) -> dict:
        return self.sign({
            "Type": "SubscriptionConfirmation", "MessageId": str(uuid.uuid4()), "Token": "2336412f37fb687f5d51e6e2",
            "TopicArn": topic_arn, "SubscribeURL": subscribe_url,
            "Message": f"You have chosen to subscribe to the topic {topic_arn}.",
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        })


def ses_bounce(recipient: str, *, ses_message_id: str = "", tags: dict | None = None, permanent: bool = True) -> dict:
    """An SES bounce notification's Message, as the SES docs show it."""
    return {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent" if permanent else "Transient", "bounceSubType": "General",
                   "bouncedRecipients": [{"emailAddress": recipient, "action": "failed", "status": "5.1.1",
                                          "diagnosticCode": "smtp; 550 5.1.1 user unknown"}],
                   "timestamp": "2026-01-01T00:00:00.000Z", "feedbackId": "0100-feedback"},
        "mail": _mail(recipient, ses_message_id, tags),
    }


def ses_complaint(recipient: str, *, ses_message_id: str = "", tags: dict | None = None) -> dict:
    return {
        "notificationType": "Complaint",
        "complaint": {"complainedRecipients": [{"emailAddress": recipient}], "complaintFeedbackType": "abuse",
                      "timestamp": "2026-01-01T00:00:00.000Z", "feedbackId": "0100-complaint"},
        "mail": _mail(recipient, ses_message_id, tags),
    }


def ses_delivery(recipient: str, *, ses_message_id: str = "", tags: dict | None = None) -> dict:
    return {
        "eventType": "Delivery",
        "delivery": {"recipients": [recipient], "smtpResponse": "250 2.6.0 Message received",
                     "timestamp": "2026-01-01T00:00:00.000Z"},
        "mail": _mail(recipient, ses_message_id, tags),
    }


def _mail(recipient: str, ses_message_id: str, tags: dict | None) -> dict:
    return {"timestamp": "2026-01-01T00:00:00.000Z", "source": "news@aicmo.example",
            "sourceArn": "arn:aws:ses:us-east-1:123456789012:identity/aicmo.example",
            "messageId": ses_message_id or str(uuid.uuid4()), "destination": [recipient],
            "tags": tags or {}}
