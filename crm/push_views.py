"""The endpoints the embedded subscription script calls, from the marketing site's own origin.

They hold no session and set no cookie: a subscription is what the browser gives once the person allowed
notifications, so any origin may post one (CORS allows it), and bad input gets a 400 that says why. Too
many posts from one address or for one browser get a 429 with Retry-After.
"""

import json

from django.contrib.staticfiles import finders
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from aicmo_site.errors import DomainError
from aicmo_site.net import client_ip
from crm.services.push import push_contact_from_token, push_subscription_remove, push_subscription_save
from gateways import services as gateways


def _cors(response: HttpResponse) -> HttpResponse:
    response["Access-Control-Allow-Origin"] = "*"
    response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
    response["Access-Control-Allow-Headers"] = "Content-Type"
    response["Access-Control-Expose-Headers"] = "Retry-After"  # not CORS-safelisted: the script may read it
    return response


def _body(request) -> dict | None:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def push_subscribe(request):
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    body = _body(request)
    keys = body.get("keys") if body else None
    if not body or not isinstance(body.get("endpoint"), str) or not isinstance(keys, dict):
        return _cors(JsonResponse({"code": "invalid_subscription",
                                   "message": "Send the browser's subscription: endpoint and keys."}, status=400))
    try:
        subscription = push_subscription_save(
            endpoint=body["endpoint"], p256dh=str(keys.get("p256dh") or ""), auth=str(keys.get("auth") or ""),
            contact_token=str(body.get("contact") or ""), user_agent=request.headers.get("User-Agent", ""),
            ip=client_ip(request))
    except DomainError as error:
        response = JsonResponse({"code": error.code, "message": error.message, "extra": error.extra},
                                status=error.status_code)
        if "wait_seconds" in error.extra:
            response["Retry-After"] = str(error.extra["wait_seconds"])
        return _cors(response)
    return _cors(JsonResponse({"id": subscription.pk, "contact": subscription.contact_id is not None}, status=201))


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def push_unsubscribe(request):
    if request.method == "OPTIONS":
        return _cors(HttpResponse(status=204))
    body = _body(request) or {}
    removed = push_subscription_remove(endpoint=str(body.get("endpoint") or ""))
    return _cors(JsonResponse({"removed": removed}))


def push_allow(request, token: str):
    """Where a contact's link from an email lands: one button that asks this browser for notifications
    and posts its subscription with the contact's signed token, so it is theirs. An expired or altered
    link still offers notifications, without tying them to anyone."""
    try:
        contact = push_contact_from_token(token)
    except DomainError as error:
        contact, problem = None, error
    else:
        problem = None
    return render(request, "crm/public/push_allow.html", {
        "token": token if contact is not None else "", "problem": problem,
        "vapid_key": gateways.vapid_public_key(), "subscribe_url": reverse("crm:push-subscribe"),
        "worker_url": reverse("push-service-worker")}, status=200 if problem is None else 410)


def push_service_worker(request):
    """Served from the site root so its scope covers every page (a worker controls only paths below it)."""
    with open(finders.find("crm/push/sw.js"), "rb") as source:
        response = HttpResponse(source.read(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"  # browsers check for a new worker at most daily anyway
    return response
