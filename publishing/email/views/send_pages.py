"""The back-office page that sets up an email send, from a campaign's page or on its own."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone

from aicmo_site.errors import DomainError
from crm.selectors import audience_size
from publishing.email import services
from publishing.email.choices import SendStatus
from publishing.email.models import EmailCampaign
from publishing.email.send_forms import EmailSendForm
from publishing.models import Campaign


def _initial(request) -> dict:
    chosen = request.GET.get("campaign", "")
    campaign = Campaign.objects.filter(pk=chosen, email__isnull=True).first() if chosen.isdigit() else None
    if campaign is None:
        return {}
    return {"campaign": campaign.pk, **EmailSendForm.audience_initial(campaign.audience or {})}


@login_required
@permission_required("publishing.add_emailcampaign", raise_exception=True)
def send_new(request):
    form = EmailSendForm(request.POST or None, initial={} if request.POST else _initial(request))
    return _plan(request, form)


@login_required
@permission_required("publishing.change_emailcampaign", raise_exception=True)
def send_edit(request, campaign_id: int):
    send = get_object_or_404(EmailCampaign.objects.select_related("campaign"), campaign_id=campaign_id)
    if send.status != SendStatus.DRAFT:
        messages.error(request, "This send has started: pause or cancel it instead.")
        return redirect("email-send-detail", campaign_id=campaign_id)
    form = EmailSendForm(request.POST or None, send=send,
                         initial={} if request.POST else EmailSendForm.initial_for(send))
    return _plan(request, form)


def _plan(request, form):
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        ab_test = None
        if data["ab_test"]:
            ab_test = {"variants": form.variants(), "metric": data["metric"], "test_share": data["test_share"],
                       "wait_minutes": data["wait_hours"] * 60, "automatic": data["automatic"]}
        try:
            email_campaign = services.email_send_plan(
                by=request.user, campaign=form.send.campaign if form.send else data["campaign"],
                name=data.get("name", "").strip(), audience=form.audience(),
                email=form.set_up_fields(), ab_test=ab_test,
                send_at=data["send_at"] if data["when"] == "later" else None)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            detail = reverse("email-send-detail", args=[email_campaign.campaign_id])
            if email_campaign.send_at:
                messages.success(request, "The send is scheduled for "
                                          f"{timezone.localtime(email_campaign.send_at):%Y-%m-%d %H:%M}.")
                return redirect(detail)
            messages.success(request, "The send is set up: check it and confirm to send it now.")
            return redirect(f"{detail}?confirm=send")
    audience = form.audience() if form.is_bound and form.is_valid() else {}
    return render(request, "publishing/email/send_form.html", {"form": form, "size": audience_size(audience),
                                                               "send": form.send})
