"""Web-push sends in the back office: list, editor, the send's page; and what the site embeds."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.transitions import available_actions
from gateways import services as gateways
from publishing.campaign_forms import AudienceMixin
from publishing.push.choices import PushDeliveryStatus
from publishing.push.models import PushSend
from publishing.push.services import push_audience_size, push_send_cancel, push_send_plan, push_send_start

PAGE_SIZE = 50


class PushSendForm(AudienceMixin, forms.Form):
    name = forms.CharField(max_length=200, label="Campaign name")
    title = forms.CharField(max_length=80)
    body = forms.CharField(max_length=240, required=False, widget=forms.Textarea(attrs={"rows": 3}))
    url = forms.URLField(required=False, label="Link", assume_scheme="https")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._set_up_audience(sized=False)


def _embed() -> dict:
    base = settings.PUBLIC_BASE_URL.rstrip("/")
    return {"vapid_key": gateways.vapid_public_key(), "script_url": base + static("crm/push/subscribe.js"),
            "subscribe_url": base + reverse("crm:push-subscribe"), "worker_url": base + reverse("push-service-worker")}


@login_required
@permission_required("publishing.view_pushsend", raise_exception=True)
def push_send_list(request):
    page = Paginator(PushSend.objects.select_related("campaign").order_by("-created_at", "-id"),
                     PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "publishing/push/send_list.html", {"page": page, **_embed()})


@login_required
@permission_required("publishing.add_pushsend", raise_exception=True)
def push_send_new(request):
    form = PushSendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            send = push_send_plan(by=request.user, name=data["name"], audience=form.audience(), title=data["title"],
                                  body=data["body"], url=data["url"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            return redirect("push-send-detail", pk=send.pk)
    return render(request, "publishing/push/send_form.html", {"form": form})


@login_required
@permission_required("publishing.view_pushsend", raise_exception=True)
def push_send_detail(request, pk: int):
    send = get_object_or_404(PushSend.objects.select_related("campaign"), pk=pk)
    counts = dict(send.deliveries.order_by().values_list("status").annotate(n=Count("id")))
    return render(request, "publishing/push/send_detail.html", {
        "send": send, "actions": available_actions(send, request.user),
        "counts": [(label, counts.get(value, 0)) for value, label in PushDeliveryStatus.choices],
        "accepted": counts.get(PushDeliveryStatus.ACCEPTED, 0),
        "size": push_audience_size(send.campaign.audience or {}) if send.status == "draft" else None})


@require_POST
@login_required
@permission_required("publishing.change_pushsend", raise_exception=True)
def push_send_action(request, pk: int):
    send = get_object_or_404(PushSend.objects.select_related("campaign"), pk=pk)
    try:
        if request.POST.get("action") == "send":
            push_send_start(send=send, by=request.user)
            messages.success(request, "Sending: each notification shows as accepted once its push service took it.")
        elif request.POST.get("action") == "cancel":
            push_send_cancel(send=send, by=request.user)
            messages.success(request, "Canceled.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("push-send-detail", pk=pk)
