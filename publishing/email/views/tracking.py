"""Public endpoints reached from inside emails and from providers: no login, no cookies needed.

- /t/o/<token>: open pixel. /t/c/<token>: click redirect, only to a link of the same campaign's
  email; anything forged, altered or foreign is a 404, and the query string is never read. Each
  recorded open or click is one appended hit, folded in the background (services.tracking).
- /u/<token>: GET and HEAD show a confirmation page (link scanners fetch URLs and must never
  unsubscribe anyone); POST unsubscribes at once and answers 200 (RFC 8058 one-click).
- /email/events: provider events signed the Standard Webhooks way; "email.received" carries a raw
  received message (base64 of its RFC 822 bytes, as inbound-mail services forward it), classified
  like a message read from the bounce mailbox.
"""

import base64
import binascii
import json
import logging

from django.http import Http404, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from gateways.mail import parse_inbound
from publishing.email import conf, webhooks
from publishing.email.choices import InboundEventKind
from publishing.email.inbox import inbound_message_apply
from publishing.email.models import EmailDelivery
from publishing.email.services.feedback import delivery_unsubscribe, inbound_event_apply
from publishing.email.services.tracking import click_hit_record, click_target, open_hit_record
from publishing.email.tokens import read_token

logger = logging.getLogger("publishing.email")

_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")
# The provider event types the webhook understands, mapped to what they mean here.
WEBHOOK_EVENT_TYPES = {
    "email.delivered": InboundEventKind.DELIVERED,
    "email.bounced": InboundEventKind.BOUNCE,
    "email.complained": InboundEventKind.COMPLAINT,
}
RECEIVED_EVENT_TYPE = "email.received"


def _delivery(delivery_id: int) -> EmailDelivery:
    try:
        return EmailDelivery.objects.select_related("contact").get(pk=delivery_id)
    except EmailDelivery.DoesNotExist:
        raise Http404("No such email")


@never_cache
@require_http_methods(["GET", "HEAD"])
def open_pixel(request, token: str):
    """A genuine GET is one INSERT (folded later); HEAD, as link scanners and prefetchers send, records nothing."""
    claims = read_token("open", token)
    if claims and request.method == "GET":
        open_hit_record(delivery_id=claims.delivery_id)
    # The image is answered whatever the token, so a broken token never shows a broken image.
    return HttpResponse(_PIXEL, content_type="image/gif")


@never_cache
@require_http_methods(["GET", "HEAD"])
def click(request, token: str):
    """A GET is one statement: the hit appended if the link is of the delivery's own campaign (folded later),
    returning its URL. HEAD, as link scanners send, only looks the link up."""
    claims = read_token("click", token)
    if claims is None:
        raise Http404("No such link")
    if request.method == "GET":
        url = click_hit_record(delivery_id=claims.delivery_id, link_id=claims.link_id)
    else:
        url = click_target(delivery_id=claims.delivery_id, link_id=claims.link_id)
    if url is None or not url.lower().startswith(("http://", "https://")):
        raise Http404("No such link")
    return HttpResponseRedirect(url)


@csrf_exempt
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    claims = read_token("unsubscribe", token)
    if claims is None:
        raise Http404("No such unsubscribe link")
    delivery = _delivery(claims.delivery_id)
    context = {"email": delivery.contact.email, "done": False}
    if request.method == "POST":
        delivery_unsubscribe(delivery=delivery,
                             source="email:one-click" if "List-Unsubscribe" in request.POST else "email:page")
        context["done"] = True
    return render(request, "publishing/email/unsubscribe.html", context)


@csrf_exempt
@require_POST
def provider_events(request):
    body = request.body
    try:
        event_id = webhooks.verify(secret=conf.webhook_secret(), headers=request.headers, body=body,
                                   tolerance=conf.webhook_tolerance_seconds())
    except webhooks.SignatureInvalid as exc:
        return JsonResponse({"code": "invalid_signature", "message": str(exc)}, status=401)
    try:
        payload = json.loads(body)
        if payload["type"] == RECEIVED_EVENT_TYPE:
            return _received_message(event_id, payload.get("data") or {})
    except (ValueError, KeyError, TypeError):
        pass
    try:
        payload = json.loads(body)
        kind = WEBHOOK_EVENT_TYPES[payload["type"]]
        data = payload.get("data") or {}
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"code": "invalid_event", "message": "Unknown event type or body.",
                             "extra": {"types": sorted([*WEBHOOK_EVENT_TYPES, RECEIVED_EVENT_TYPE])}}, status=400)
    applied = inbound_event_apply(
        source="webhook", event_id=event_id, kind=kind, message_ids=(str(data.get("message_id", "")),),
        email=str(data.get("email", "")), bounce_type=str(data.get("bounce_type", "hard")),
        detail={"diagnostic": str(data.get("diagnostic", ""))[:500], "type": payload["type"]},
    )
    return JsonResponse({"status": "applied" if applied else "ignored"})


def _received_message(event_id: str, data: dict):
    try:
        raw = base64.b64decode(str(data["raw"]), validate=True)
    except (KeyError, binascii.Error, ValueError):
        return JsonResponse({"code": "invalid_event", "message": "email.received needs data.raw: the message's "
                             "RFC 822 bytes in base64."}, status=400)
    message = parse_inbound(raw, uid=0)
    applied = inbound_message_apply(message, source="webhook", event_id=event_id)
    return JsonResponse({"status": "applied" if applied else "ignored", "kind": message.kind})
