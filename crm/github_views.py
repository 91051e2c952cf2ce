"""GitHub's webhook endpoint: signature checked on the raw body before anything is read from it."""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm import github_signature
from crm.services.github import github_delivery_apply
from gateways import services as gateways
from gateways.capabilities import Capability


def _refused(code: str, message: str) -> JsonResponse:
    return JsonResponse({"code": code, "message": message}, status=400)


@csrf_exempt
@require_POST
def github_events(request):
    body = request.body
    try:
        github_signature.verify(secrets=gateways.webhook_secrets(Capability.REPOSITORY_SIGNALS),
                                header=request.headers.get("X-Hub-Signature-256", ""), body=body)
    except github_signature.SignatureInvalid as exc:
        return _refused("invalid_signature", str(exc))
    delivery_id, event = request.headers.get("X-GitHub-Delivery", ""), request.headers.get("X-GitHub-Event", "")
    if not delivery_id or not event or len(delivery_id) > 64:
        return _refused("invalid_event", "A delivery needs X-GitHub-Delivery and X-GitHub-Event.")
    try:
        payload = json.loads(body)
    except ValueError:
        return _refused("invalid_event", "The body is not JSON.")
    if not isinstance(payload, dict):
        return _refused("invalid_event", "The body is not a JSON object.")
    # GitHub marks anything but a 2xx as failed: a repeated or unhandled delivery is acknowledged.
    return JsonResponse({"status": "applied" if github_delivery_apply(delivery_id=delivery_id, event=event,
                                                                        payload=payload) else "duplicate"})
