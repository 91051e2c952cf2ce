"""The public side of subscription forms: the hosted page, the token an embedded form fetches, the
endpoint both post to, and the double opt-in confirmation page. No login.

The post endpoint is exempt from Django's CSRF check because a page on another site cannot hold our
CSRF cookie; it accepts instead only a signed token from a render of this very form (crm.services.forms),
and only from an Origin the form allows (its own pages, or the sites listed on it). CORS headers go to
those origins only, so no other site's script can read an answer.
"""

from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from aicmo_site.errors import DomainError
from aicmo_site.net import client_ip
from crm.form_models import STANDARD_FIELDS, SubscriptionForm
from crm.services import forms as form_services


def _origin_of(url: str) -> str:
    parts = urlsplit(url or "")
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else ""


def _own_origins(request) -> set[str]:
    return {f"{request.scheme}://{request.get_host()}".lower(), _origin_of(settings.PUBLIC_BASE_URL)}


def _request_origin(request) -> str:
    """Browsers send Origin with every cross-origin request and every POST; Referer covers the rest."""
    return (request.headers.get("Origin") or _origin_of(request.headers.get("Referer", ""))).lower()


def _allowed(request, form: SubscriptionForm) -> str:
    origin = _request_origin(request)
    return origin if form_services.origin_allowed(form, origin, own_origins=_own_origins(request)) else ""


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response


def form_context(form: SubscriptionForm, *, token: str = "", data=None, errors: dict | None = None) -> dict:
    """What the form's fields template needs, shared by the hosted page and the embed snippet."""
    data, errors = data or {}, errors or {}
    chosen = set(data.getlist("topics")) if hasattr(data, "getlist") else set(data.get("topics", []))
    fields = [{"name": name, "label": STANDARD_FIELDS[name], "required": name in form.required_fields,
               "value": data.get(name, ""), "errors": errors.get(name, []),
               "autocomplete": {"first_name": "given-name", "last_name": "family-name", "company": "organization",
                                "job_title": "organization-title", "phone": "tel", "city": "address-level2",
                                "country": "country-name"}[name]}
              for name in form.fields]
    fields += [{"name": f"custom_{item['key']}", "label": item["label"], "required": False,
                "value": data.get(f"custom_{item['key']}", ""), "errors": [], "autocomplete": "off"}
               for item in form.custom_fields]
    return {"form": form, "token": token, "fields": fields, "email": data.get("email", ""),
            "email_errors": errors.get("email", []), "topic_errors": errors.get("topics", []),
            "topics": [{"topic": topic, "checked": topic.slug in chosen} for topic in form.topics.all()],
            "honeypot": form_services.HONEYPOT}


@require_GET
def form_page(request, slug: str):
    form = get_object_or_404(SubscriptionForm, slug=slug)
    return render(request, "crm/public/form_page.html",
                  form_context(form, token=form_services.render_token(form)))


@require_GET
def form_token(request, slug: str):
    """An embedded form's render token, fetched by its script when the page shows it."""
    form = get_object_or_404(SubscriptionForm, slug=slug)
    origin = _allowed(request, form)
    if not origin:
        return JsonResponse({"detail": "This form may not be embedded on this site."}, status=403)
    response = JsonResponse({"token": form_services.render_token(form)})
    response["Cache-Control"] = "no-store"
    return _cors(response, origin)


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def form_post(request, slug: str):
    form = get_object_or_404(SubscriptionForm, slug=slug)
    origin = _allowed(request, form)
    wants_json = "application/json" in request.headers.get("Accept", "")
    if request.method == "OPTIONS":
        response = HttpResponse(status=204 if origin else 403)
        if origin:
            response["Access-Control-Allow-Methods"] = "POST"
            response["Access-Control-Allow-Headers"] = "Accept, Content-Type"
            response["Access-Control-Max-Age"] = "3600"
        return _cors(response, origin)
    if not origin:
        message = "This form may not be sent from this site."
        if wants_json:
            return JsonResponse({"detail": message, "code": "origin_not_allowed"}, status=403)
        return render(request, "crm/public/form_result.html", {"form": form, "message": message}, status=403)
    try:
        result = form_services.form_submit(form=form, data=request.POST, ip=client_ip(request) or None,
                                           user_agent=request.headers.get("User-Agent", ""), origin=origin)
    except DomainError as error:
        fields = error.extra.get("fields", {})
        if wants_json:
            return _cors(JsonResponse({"detail": error.message, "code": error.code, "fields": fields},
                                      status=error.status_code), origin)
        context = form_context(form, token=form_services.render_token(form), data=request.POST, errors=fields)
        return render(request, "crm/public/form_page.html", {**context, "error": error.message},
                      status=error.status_code)
    if wants_json:
        return _cors(JsonResponse({"detail": result.message, "redirect_url": result.redirect_url}), origin)
    if result.redirect_url:
        return redirect(result.redirect_url)
    return render(request, "crm/public/form_result.html", {"form": form, "message": result.message})


@require_http_methods(["GET", "POST"])
def subscription_confirm(request, token: str):
    """GET shows a button and POST confirms: link checkers of mail systems open links, they do not
    press buttons, so no one is subscribed by a scanner."""
    try:
        submission = form_services.submission_from_token(token)
        if request.method == "POST":
            submission = form_services.submission_confirm(token=token, ip=client_ip(request) or None,
                                                          user_agent=request.headers.get("User-Agent", ""))
    except DomainError as error:
        return render(request, "crm/public/confirm.html", {"error": error.message}, status=error.status_code)
    return render(request, "crm/public/confirm.html", {"submission": submission})
