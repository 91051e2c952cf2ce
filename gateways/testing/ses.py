"""moto in server mode as the local Amazon SES endpoint (tests only; moto is a dev dependency).

A real HTTP server in a thread of the test process: the adapter's requests go over TCP, through the
address guard and the SigV4 signing, exactly as to AWS. moto 5.2 serves SESv2 SendEmail but not
GetAccount, so `SesServer` adds GetAccount in the documented answer's shape, from moto's own quota
bookkeeping (200 messages a day, the count it keeps of messages sent).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from gateways.testing.ports import free_port

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"  # moto's default account


# SendEmail's errors as the SESv2 service model declares them (code, HTTP status, its documentation), from
# botocore's data/sesv2/2019-09-27/service-2.json and
# https://docs.aws.amazon.com/ses/latest/APIReference-V2/API_SendEmail.html#API_SendEmail_Errors; and the two
# sending-limit messages of https://docs.aws.amazon.com/ses/latest/dg/manage-sending-quotas-errors.html.
SEND_EMAIL_ERRORS = {
    "TooManyRequestsException": (429, "Too many requests have been made to the operation."),
    "LimitExceededException": (400, "There are too many instances of the specified resource type."),
    "AccountSuspendedException": (400, "The message can't be sent because the account's ability to send email "
                                       "has been permanently restricted."),
    "SendingPausedException": (400, "The message can't be sent because the account's ability to send email is "
                                    "currently paused."),
    "MessageRejected": (400, "Email address is not verified. The following identities failed the check in region "
                             "US-EAST-1: news@example.com"),
    "MailFromDomainNotVerifiedException": (400, "The message can't be sent because the sending domain isn't "
                                                "verified."),
    "BadRequestException": (400, "The input you provided is invalid."),
    "NotFoundException": (404, "Configuration set <spring> does not exist."),
}
DAILY_QUOTA_EXCEEDED = "Daily message quota exceeded."
MAXIMUM_RATE_EXCEEDED = "Maximum sending rate exceeded."


@dataclass
class SesAccountState:
    """What GetAccount reports; sent_last_24_hours None: moto's own count of messages sent."""

    max_24_hour_send: float = 200.0
    max_send_rate: float = 14.0
    sent_last_24_hours: float | None = None
    sending_enabled: bool = True
    throttle_sends: bool = False
    # (code, status, message) SendEmail answers instead of sending, e.g. SEND_EMAIL_ERRORS' entries.
    send_refusal: tuple[str, int, str] | None = None
    extra: dict = field(default_factory=dict)


class SesServer:
    def __init__(self):
        from moto.moto_server.threaded_moto_server import ThreadedMotoServer

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.state = SesAccountState()
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> SesServer:
        self._patch_moto()
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()

    def reset(self) -> None:
        from moto.ses.models import ses_backends

        self.state = SesAccountState()
        ses_backends[ACCOUNT_ID][REGION].reset()

    @property
    def backend(self):
        from moto.ses.models import ses_backends

        return ses_backends[ACCOUNT_ID][REGION]

    def verify_sender(self, address: str) -> None:
        self.backend.verify_email_identity(address)

    def sent_messages(self) -> list:
        return list(self.backend.sent_messages)

    def _patch_moto(self) -> None:
        from moto.core.exceptions import JsonRESTError
        from moto.sesv2 import urls
        from moto.sesv2.responses import SESV2Response

        urls.url_paths.setdefault("{0}/v2/email/account$", SESV2Response.dispatch)

        server = self
        original_send = SESV2Response.send_email

        def get_account(response: SESV2Response) -> str:
            state = server.state
            sent = state.sent_last_24_hours
            if sent is None:
                sent = float(response.sesv2_backend.core_backend.sent_message_count)
            return json.dumps({
                "DedicatedIpAutoWarmupEnabled": False, "EnforcementStatus": "HEALTHY",
                "ProductionAccessEnabled": True, "SendingEnabled": state.sending_enabled,
                "SendQuota": {"Max24HourSend": state.max_24_hour_send, "MaxSendRate": state.max_send_rate,
                              "SentLast24Hours": sent},
                **state.extra,
            })

        def send_email(response: SESV2Response) -> str:
            refusal = server.state.send_refusal
            if server.state.throttle_sends:
                refusal = ("TooManyRequestsException", 429, MAXIMUM_RATE_EXCEEDED)
            if refusal is not None:
                code, status, said = refusal
                error = JsonRESTError(code, said)
                error.code = status
                raise error
            return original_send(response)

        SESV2Response.get_account = get_account
        SESV2Response.send_email = send_email


class SesCredentials:
    """An IAM user of moto's that may use SES, with moto checking every request's SigV4 signature
    against its secret (moto's INITIAL_NO_AUTH_ACTION_COUNT at 0) while the block runs."""

    def __enter__(self) -> tuple[str, str]:
        from moto import settings as moto_settings
        from moto.iam.models import iam_backends

        iam = iam_backends[ACCOUNT_ID]["global"]
        if "aicmo-sender" not in iam.users:
            iam.create_user(region_name=REGION, user_name="aicmo-sender")
            iam.put_user_policy("aicmo-sender", "send", json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "ses:*", "Resource": "*"}]}))
        key = iam.create_access_key("aicmo-sender")
        self._previous = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
        self._key = key
        return key.access_key_id, key.secret_access_key

    def __exit__(self, *exc) -> None:
        from moto import settings as moto_settings
        from moto.iam.models import iam_backends

        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT = self._previous
        iam_backends[ACCOUNT_ID]["global"].delete_access_key(self._key.access_key_id, "aicmo-sender")
