"""/email/ses/notifications: what SNS posts for Amazon SES (bounces, complaints, deliveries), and the
subscription's confirmation. Nothing is read from a message before its signature, age and topic are
checked (gateways.sns)."""

import json
import logging

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from gateways import services as gateways
from gateways.errors import GatewayError
from publishing.email.services.ses import ses_notification_apply

logger = logging.getLogger("publishing.email")


def _refused(status: int, code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=status)


@csrf_exempt
@require_POST
def ses_notifications(request):
    # SNS posts JSON as text/plain; the body is read as it is whatever the content type says.
    try:
        message = json.loads(request.body)
    except ValueError:
        return _refused(400, "invalid_message", "The body is not JSON.")
    try:
        gateways.sns_message_verify(message)
    except gateways.SnsCertificateUnavailable as exc:
        logger.warning("SNS message not checked yet: %s", exc)
        return _refused(503, "certificate_unavailable", str(exc))
    except gateways.SnsMessageInvalid as exc:
        logger.warning("SNS message refused: %s", exc)
        return _refused(403, "invalid_signature", str(exc))
    kind = message["Type"]
    if kind == "SubscriptionConfirmation":
        try:
            gateways.sns_subscription_confirm(message)
        except gateways.SnsMessageInvalid as exc:
            return _refused(403, "invalid_subscribe_url", str(exc))
        except GatewayError as exc:
            # Not a 2xx: SNS sends the confirmation again later.
            return _refused(502, "not_confirmed", exc.message)
        return JsonResponse({"status": "confirmed"})
    if kind == "UnsubscribeConfirmation":
        logger.warning("The SNS subscription to %s was removed", message.get("TopicArn"))
        return JsonResponse({"status": "unsubscribed"})
    try:
        events = gateways.ses_notification_events(message)
    except ValueError as exc:
        return _refused(400, "invalid_notification", str(exc))
    # SNS retries anything but a 2xx: a duplicate or a type we do not read is acknowledged.
    applied = ses_notification_apply(message_id=message["MessageId"], events=events)
    return JsonResponse({"status": "applied" if applied else ("ignored" if events else "not_read"),
                         "applied": applied})
