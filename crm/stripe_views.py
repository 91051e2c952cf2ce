"""Stripe's webhook endpoint: signature checked on the raw body before anything is read from it."""

import json

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm import conf, stripe_signature
from crm.services.payments import stripe_event_apply


@csrf_exempt
@require_POST
def stripe_events(request):
    body = request.body
    try:
        stripe_signature.verify(
            secrets=conf.stripe_signing_secrets(),
            header=request.headers.get("Stripe-Signature", ""),
            body=body,
            tolerance=conf.stripe_tolerance_seconds(),
        )
    except stripe_signature.SignatureInvalid as exc:
        return JsonResponse({"code": "invalid_signature", "message": str(exc)}, status=400)
    try:
        event = json.loads(body)
    except ValueError:
        return JsonResponse({"code": "invalid_event", "message": "The body is not JSON."}, status=400)
    if not isinstance(event, dict) or not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        return JsonResponse({"code": "invalid_event", "message": "An event needs an id and a type."}, status=400)
    # Stripe retries anything but a 2xx, so an event type not handled here is acknowledged, not refused.
    return JsonResponse({"status": "applied" if stripe_event_apply(event=event) else "ignored"})
