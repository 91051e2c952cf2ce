"""SMS sends in the back office (list, editor with the segment count, the send's page) and the provider's
signed delivery-status callback."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.transitions import available_actions
from gateways import services as gateways
from publishing.campaign_forms import AudienceMixin
from publishing.sms import conf
from publishing.sms.choices import SMS_TAKEN, SmsDeliveryStatus
from publishing.sms.models import SmsDelivery, SmsSend
from publishing.sms.segments import sms_length
from publishing.sms.services import (
    SMS_DELIVERY_WORKFLOW,
    sms_audience_size,
    sms_delivery_act,
    sms_send_cancel,
    sms_send_plan,
    sms_send_start,
    sms_sending_readiness,
    sms_status_callback_apply,
    status_callback_url,
)

PAGE_SIZE = 50


class SmsSendForm(AudienceMixin, forms.Form):
    name = forms.CharField(max_length=200, label="Campaign name")
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5, "data-sms-counter": "sms-count"}),
                           help_text="Plain text. Say who is writing and how to stop: “Reply STOP to opt out”.")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_audience(sized=False)


def _setup(request) -> dict:
    return {"readiness": sms_sending_readiness(), "status_url": status_callback_url(),
            "inbound_url": conf.public_base_url() + reverse("crm:sms-inbound")}


@login_required
@permission_required("publishing.view_smssend", raise_exception=True)
def sms_send_list(request):
    sends = SmsSend.objects.select_related("campaign").order_by("-created_at", "-id")
    page = Paginator(sends, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "publishing/sms/send_list.html", {"page": page, **_setup(request)})


@login_required
@permission_required("publishing.add_smssend", raise_exception=True)
def sms_send_new(request):
    form = SmsSendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            send = sms_send_plan(by=request.user, name=form.cleaned_data["name"], audience=form.audience(),
                                 body=form.cleaned_data["body"])
        except DomainError as error:
            form.add_error(error.extra.get("field") if error.extra else None, error.message)
        else:
            return redirect("sms-send-detail", pk=send.pk)
    length = sms_length(form["body"].value() or "")
    return render(request, "publishing/sms/send_form.html", {"form": form, "length": length, **_setup(request)})


@login_required
@permission_required("publishing.view_smssend", raise_exception=True)
def sms_send_detail(request, pk: int):
    send = get_object_or_404(SmsSend.objects.select_related("campaign"), pk=pk)
    counts = dict(send.deliveries.order_by().values_list("status").annotate(n=Count("id")))
    status = request.GET.get("status", "")
    deliveries = send.deliveries.order_by("id")
    if status in SmsDeliveryStatus.values:
        deliveries = deliveries.filter(status=status)
    page = Paginator(deliveries, PAGE_SIZE).get_page(request.GET.get("page"))
    for delivery in page:
        delivery.actions = SMS_DELIVERY_WORKFLOW.available_actions(delivery, request.user)
    return render(request, "publishing/sms/send_detail.html", {
        "send": send, "length": sms_length(send.body), "actions": available_actions(send, request.user),
        "counts": [(value, label, counts.get(value, 0)) for value, label in SmsDeliveryStatus.choices],
        "taken": sum(counts.get(value, 0) for value in SMS_TAKEN), "page": page, "status": status,
        "size": sms_audience_size(send.campaign.audience or {}) if send.status == "draft" else None,
        **_setup(request)})


@require_POST
@login_required
@permission_required("publishing.change_smssend", raise_exception=True)
def sms_send_action(request, pk: int):
    send = get_object_or_404(SmsSend.objects.select_related("campaign"), pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "send":
            sms_send_start(send=send, by=request.user)
            messages.success(request, "Sending: each message shows as accepted once the provider has taken it.")
        elif action == "cancel":
            sms_send_cancel(send=send, by=request.user)
            messages.success(request, "Canceled: messages not yet sent will not be.")
        else:
            messages.error(request, "Unknown action.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("sms-send-detail", pk=pk)


@require_POST
@login_required
@permission_required("publishing.change_smssend", raise_exception=True)
def sms_delivery_action(request, pk: int):
    delivery = get_object_or_404(SmsDelivery, pk=pk)
    try:
        sms_delivery_act(delivery=delivery, action=request.POST.get("action", ""), by=request.user)
        messages.success(request, f"{delivery.to}: done.")
    except (DomainError, KeyError):
        messages.error(request, "That cannot be done to this message now.")
    return redirect("sms-send-detail", pk=delivery.send_id)


@csrf_exempt
@require_POST
def sms_status(request):
    """Twilio's StatusCallback: checked as Twilio signs it (the URL we gave it and the form), then applied."""
    problem = gateways.sms_webhook_problem(
        header=request.headers.get("X-Twilio-Signature", ""), url=conf.public_base_url() + request.get_full_path(),
        params=[(name, value) for name, values in request.POST.lists() for value in values])
    if problem:
        return JsonResponse({"code": "invalid_signature", "message": problem}, status=403)
    sms_status_callback_apply(message_id=request.POST.get("MessageSid", ""),
                              status=request.POST.get("MessageStatus", ""),
                              error_code=request.POST.get("ErrorCode", ""))
    return HttpResponse(status=204)
