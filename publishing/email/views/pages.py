"""Back-office pages of email sends: a list (filters, search, sorting, pagination), each send's
progress with pause, resume and cancel (cancel asks for confirmation), its A/B test's results with a
winner picked by hand (asks for confirmation: the held audience then gets it), and a preview as any
contact with a test send to chosen addresses."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.stuck import stuck_before
from aicmo_site.transitions import available_action_names
from crm.models import Suppression
from publishing.email import selectors, services
from publishing.email.choices import DeliveryStatus, SendStatus
from publishing.email.dark_mode import dark_mode_findings, dark_preview
from publishing.email.filters import EmailCampaignFilterSet
from publishing.email.forms import EmailPreviewForm, EmailTestSendForm
from publishing.email.models import ABTest, ABVariant, EmailCampaign, EmailDelivery
from publishing.email.services import ab_tests

ORDERINGS = {"-created_at": "Newest", "-started_at": "Last started", "campaign__name": "Campaign name",
             "status": "Status"}
ACTIONS = {"send": services.email_campaign_send, "pause": services.email_campaign_pause,
           "resume": services.email_campaign_resume, "cancel": services.email_campaign_cancel}
# Neither can be taken back: a started send goes out, a canceled one drops what is not yet out.
ASKS_FIRST = ("send", "cancel")


def search_term(request) -> str:
    # PostgreSQL refuses a NUL in a string (a 500 from a pasted or crafted search otherwise).
    return request.GET.get("q", "").replace("\x00", "").strip()


@login_required
@permission_required("publishing.view_emailcampaign", raise_exception=True)
def send_list(request):
    queryset = selectors.email_campaign_list()
    search = search_term(request)
    if search:
        queryset = queryset.filter(campaign__name__icontains=search)
    ordering = request.GET.get("ordering")
    queryset = queryset.order_by(ordering if ordering in ORDERINGS else "-created_at", "-id")
    filterset = EmailCampaignFilterSet(request.GET or None, queryset=queryset)
    page = Paginator(filterset.qs, 25).get_page(request.GET.get("page"))
    selectors.email_campaigns_attach_percent(page.object_list)
    return render(request, "publishing/email/send_list.html", {"filter": filterset, "page": page,
                                                                "orderings": ORDERINGS})


@login_required
@permission_required("publishing.view_emailcampaign", raise_exception=True)
def send_detail(request, campaign_id: int):
    email_campaign = get_object_or_404(selectors.email_campaign_list(), campaign_id=campaign_id)
    # A QueryDict (the status filter reads a list), the campaign set last so a ?campaign= in the
    # address cannot list another send's deliveries here.
    filters = request.GET.copy()
    filters["campaign"] = str(campaign_id)
    deliveries = selectors.delivery_list(filters=filters)
    under_way = email_campaign.status in (SendStatus.SENDING, SendStatus.PAUSED)
    stuck = (selectors.email_campaigns_stuck(before=stuck_before()).filter(pk=email_campaign.pk).first()
             if email_campaign.status == SendStatus.SENDING else None)
    return render(request, "publishing/email/send_detail.html", {
        "stuck_since": stuck.progressed_at if stuck else None,
        "provider_readiness": services.email_sending_readiness() if under_way else None,
        **_ab_test_context(email_campaign, request.user, confirm_variant=request.GET.get("pick")),
        "actions": available_action_names(email_campaign, request.user),
        "send": email_campaign, "progress": selectors.email_campaign_progress(email_campaign),
        "checklist": services.email_campaign_checklist(email_campaign) if email_campaign.status == "draft" else [],
        "page": Paginator(deliveries, 50).get_page(request.GET.get("page")),
        "events": email_campaign.events.select_related("by")[:20],
        "confirm": request.GET.get("confirm") if request.GET.get("confirm") in ASKS_FIRST else "",
        "delivery_statuses": DeliveryStatus.choices,
        "feedback": selectors.email_campaign_feedback(email_campaign),
        "hour_spread": selectors.email_campaign_hour_spread(email_campaign),
    })


@login_required
@permission_required("publishing.view_emailcampaign", raise_exception=True)
def delivery_detail(request, campaign_id: int, delivery_id: int):
    """One delivery and everything that came back about it, classified as the inbox poll and
    `manage.py classify_mail` classify it: what support reads to answer "why was this address suppressed?"."""
    delivery = get_object_or_404(EmailDelivery.objects.select_related("contact", "campaign"), pk=delivery_id,
                                 campaign_id=campaign_id)
    return render(request, "publishing/email/delivery_detail.html", {
        "delivery": delivery, "events": selectors.delivery_inbound_events(delivery),
        "suppression": Suppression.objects.filter(value=delivery.contact.email).first(),
    })


def _ab_test_context(email_campaign: EmailCampaign, user, *, confirm_variant: str | None) -> dict:
    test = ABTest.objects.filter(email_campaign=email_campaign).select_related("winner").first()
    if test is None:
        return {"ab_test": None}
    subjects = {pk: subject or template_subject for pk, subject, template_subject
                in test.variants.values_list("pk", "subject", "template__subject")}
    results = [(result, subjects.get(result.variant_id) or email_campaign.subject_line)
               for result in ab_tests.ab_test_results(test)]
    test.email_campaign = email_campaign
    open_to_pick = "pick_winner" in available_action_names(test, user)
    confirm = next((result for result, _ in results if str(result.variant_id) == confirm_variant), None)
    return {"ab_test": test, "ab_results": results, "ab_confirm": confirm if open_to_pick else None,
            "ab_can_pick": open_to_pick and confirm is None}


def _pick_winner(request, email_campaign: EmailCampaign, back: str):
    variant = ABVariant.objects.filter(ab_test__email_campaign=email_campaign,
                                       pk=request.POST.get("variant") or None).select_related("ab_test").first()
    if variant is None:
        messages.error(request, "Choose one of this send's variants.")
    elif request.POST.get("confirmed") != "yes":
        return redirect(f"{back}?{urlencode({'pick': variant.pk})}#ab-test")
    else:
        try:
            ab_tests.ab_test_pick_winner(test=variant.ab_test, winner=variant, by=request.user)
            messages.success(request, f"Variant {variant.label} is the winner: the rest of the audience gets it.")
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect(back)


@login_required
@permission_required("publishing.change_emailcampaign", raise_exception=True)
@require_POST
def send_action(request, campaign_id: int):
    email_campaign = get_object_or_404(EmailCampaign, campaign_id=campaign_id)
    back = reverse("email-send-detail", args=[campaign_id])
    action = request.POST.get("action", "")
    if action == "pick_winner":
        return _pick_winner(request, email_campaign, back)
    if action not in ACTIONS:
        messages.error(request, "Unknown action.")
        return redirect(back)
    if action in ASKS_FIRST and request.POST.get("confirmed") != "yes":
        return redirect(f"{back}?confirm={action}")
    try:
        ACTIONS[action](email_campaign=email_campaign, by=request.user)
        messages.success(request, f"Done: {action}.")
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(back)


@login_required
@permission_required("publishing.view_emailcampaign", raise_exception=True)
def send_preview(request, campaign_id: int):
    """The email as one contact will read it (GET; sample data when none is given, or when the
    address is unknown, with the form saying so), and a test send of that version (POST)."""
    email_campaign = get_object_or_404(selectors.email_campaign_list(), campaign_id=campaign_id)
    if request.method == "POST":
        if not request.user.has_perm("publishing.change_emailcampaign"):
            raise PermissionDenied
        test_form = EmailTestSendForm(request.POST)
        if test_form.is_valid():
            try:
                ids = services.email_template_test_send(
                    template=email_campaign.template, to=test_form.cleaned_data["to"], subject=email_campaign.subject,
                    contact=test_form.cleaned_data["contact"], from_email=email_campaign.sender,
                    reply_to=email_campaign.reply_to)
                messages.success(request, f"Test sent to {len(ids)} address{'es' if len(ids) != 1 else ''}.")
                query = urlencode({"contact": request.POST.get("contact", "")})
                return redirect(f"{reverse('email-send-preview', args=[campaign_id])}?{query}")
            except DomainError as exc:
                messages.error(request, exc.message)
        contact = test_form.cleaned_data.get("contact")
        preview_form = EmailPreviewForm(initial={"contact": request.POST.get("contact", "")})
    else:
        preview_form = EmailPreviewForm(request.GET or None)
        contact = preview_form.cleaned_data["contact"] if preview_form.is_bound and preview_form.is_valid() else None
        test_form = EmailTestSendForm(initial={"contact": request.GET.get("contact", "")})
    rendered = services.email_template_preview(template=email_campaign.template, contact=contact,
                                               subject=email_campaign.subject, preheader=email_campaign.preheader,
                                               campaign_name=email_campaign.campaign.name)
    variants = [
        (variant, services.email_template_preview(
            template=variant.template or email_campaign.template, contact=contact,
            subject=variant.subject or email_campaign.subject, preheader=email_campaign.preheader,
            campaign_name=email_campaign.campaign.name))
        for variant in ABVariant.objects.filter(ab_test__email_campaign=email_campaign).select_related("template")
    ]
    return render(request, "publishing/email/send_preview.html", {
        "send": email_campaign, "preview_form": preview_form, "test_form": test_form, "rendered": rendered,
        "contact": contact, "variants": variants, "dark_html": dark_preview(rendered.html),
        "dark_findings": dark_mode_findings(rendered.html)})
