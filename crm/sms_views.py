"""The SMS provider's inbound-message webhook (Twilio's "A message comes in"): STOP, START and HELP.

The signature is checked on the URL Twilio was given (PUBLIC_BASE_URL and this path) and the form it
posted, before anything is read. The answer is TwiML: empty, since Twilio's own opt-out handling already
confirms STOP and START to the sender, or the team's HELP text when one is set.
"""

from xml.sax.saxutils import escape

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from crm import conf
from crm.services.sms import sms_inbound_apply
from gateways import services as gateways


def signed_url(request) -> str:
    return settings.PUBLIC_BASE_URL.rstrip("/") + request.get_full_path()


def twilio_signature_problem(request) -> str:
    """Why the request is not Twilio's, or "" when its signature holds."""
    return gateways.sms_webhook_problem(
        header=request.headers.get("X-Twilio-Signature", ""), url=signed_url(request),
        params=[(name, value) for name, values in request.POST.lists() for value in values])


def twiml(message: str = "") -> HttpResponse:
    inner = f"<Message>{escape(message)}</Message>" if message else ""
    return HttpResponse(f'<?xml version="1.0" encoding="UTF-8"?><Response>{inner}</Response>',
                        content_type="text/xml")


@csrf_exempt
@require_POST
def sms_inbound(request):
    problem = twilio_signature_problem(request)
    if problem:
        return JsonResponse({"code": "invalid_signature", "message": problem}, status=403)
    outcome = sms_inbound_apply(number=request.POST.get("From", ""), body=request.POST.get("Body", ""),
                                to=request.POST.get("To", ""))
    return twiml(conf.sms_help_reply() if outcome.keyword == "help" else "")
