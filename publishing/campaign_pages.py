"""The campaign builder: plan a campaign by name (audience, contents, channels, times), review what
stops it from going out, activate it; duplicate one from its page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.transitions import available_action_names
from crm.selectors import audience_size
from publishing import services
from publishing.best_times import channel_best_times, with_shades
from publishing.campaign_forms import AudienceForm, CampaignForm
from publishing.choices import CampaignStatus
from publishing.formatters import formatter_for
from publishing.forms import CampaignWeatherHoldForm
from publishing.models import Campaign
from publishing.services.weather_holds import campaign_hold_for_weather


def problems_in_words(problems: dict[str, list[str]]) -> list[str]:
    """campaign_check's problems as sentences: "Spring launch on X: …" rather than keys and lists."""
    sentences = []
    for where, errors in problems.items():
        if where == "campaign":
            sentences += errors
            continue
        title, _, kind = where.partition(" / ")
        place = f"“{title}” on {formatter_for(kind).label}" if kind else f"“{title}”"
        sentences += [f"{place}: {error}" for error in errors]
    return sentences


def _builder(request, campaign=None):
    initial = CampaignForm.initial_for(campaign) if campaign else {}
    form = CampaignForm(request.POST or None, initial=initial, campaign=campaign)
    if request.method == "POST" and "best_time" in request.POST:
        return _best_time(request, form, initial, campaign)
    if request.method == "POST" and form.is_valid():
        try:
            if campaign is None:
                campaign = services.campaign_create(by=request.user, **form.service_fields())
            else:
                campaign = services.campaign_update(campaign=campaign, by=request.user, **form.service_fields())
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Campaign saved. Review it, then activate it.")
            return redirect("publishing:campaign-review", pk=campaign.pk)
    audience = form.audience() if form.is_bound and form.is_valid() else (campaign.audience if campaign else {})
    return render(request, "publishing/campaign_form.html", {
        "form": form, "campaign": campaign, "contents": form.content_table(), "size": audience_size(audience or {}),
    })


def _best_time(request, form, initial, campaign):
    """A suggestion, not a save: one content's time cell comes back with the best hour filled in and
    why (the builder swaps it in with htmx; the rest of the form is left as the person has it)."""
    suggestion = form.best_time(request.POST["best_time"])
    if suggestion is None:
        return HttpResponseBadRequest("That content is not offered in this builder.")
    if "data" in suggestion:
        form = CampaignForm(suggestion["data"], initial=initial, campaign=campaign)
    content_pk = int(request.POST["best_time"])
    form.best_time_notes[content_pk] = suggestion["note"]
    heat_map = {}
    if "channel" in suggestion:
        form.best_time_channels[content_pk] = suggestion["channel"]
        # The hours behind the suggestion, beside it: the same map as the report's (cached per channel).
        heat_map = {"heat_map": with_shades(channel_best_times(suggestion["channel"])), "hours": range(24),
                    "heat_map_id": f"heatmap-{content_pk}",
                    "heat_map_name": next(c.name for c in form.channels if c.pk == suggestion["channel"])}
    # Only this cell is redrawn: errors of fields the person has not finished yet stay unsaid.
    row = next(row for row in form.content_table() if row["content"].pk == content_pk)
    return render(request, "publishing/_time_cell.html", {"row": row, **heat_map})


@login_required
@permission_required("publishing.add_campaign", raise_exception=True)
def campaign_new(request):
    return _builder(request)


@login_required
@permission_required("publishing.change_campaign", raise_exception=True)
def campaign_edit(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    if campaign.status != CampaignStatus.DRAFT:
        messages.error(request, "Only a draft campaign can be changed; pause or cancel it instead.")
        return redirect(campaign)
    return _builder(request, campaign)


@login_required
@permission_required("publishing.view_campaign", raise_exception=True)
def campaign_audience_size(request):
    """The live audience count, recounted as the pickers change (an htmx partial)."""
    form = AudienceForm(request.GET)
    if not form.is_valid():
        return render(request, "publishing/_audience_size.html", {"errors": form.errors})
    return render(request, "publishing/_audience_size.html", {"size": audience_size(form.audience())})


@login_required
@permission_required("publishing.view_campaign", raise_exception=True)
def campaign_review(request, pk):
    """Everything the campaign will do, every problem that stops it, and Activate."""
    campaign = get_object_or_404(Campaign, pk=pk)
    actions = available_action_names(campaign, request.user)
    problems = problems_in_words(services.campaign_check(campaign)) if campaign.status == CampaignStatus.DRAFT else []
    if request.method == "POST":
        if "activate" not in actions:
            messages.error(request, "This campaign cannot be activated now.")
            return redirect(campaign)
        try:
            services.campaign_activate(campaign=campaign, by=request.user)
        except DomainError as error:
            problems = problems_in_words(error.extra.get("problems") or {}) or [error.message]
        else:
            messages.success(request, "Campaign activated: its posts are scheduled.")
            return redirect(campaign)
    return render(request, "publishing/campaign_review.html", {
        "campaign": campaign, "problems": problems, "actions": actions,
        "contents": campaign.campaign_contents.select_related("content").prefetch_related("channels")
                            .order_by("publish_at", "pk"),
        "channels": campaign.channels.select_related("provider_account"),
        "size": audience_size(campaign.audience or {}),
    })


@login_required
@permission_required("publishing.add_campaign", raise_exception=True)
@require_POST
def campaign_duplicate(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    try:
        copy = services.campaign_duplicate(campaign=campaign, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
        return redirect(campaign)
    messages.success(request, f"“{campaign.name}” duplicated as a draft: change what differs.")
    return redirect(reverse("publishing:campaign-edit", args=[copy.pk]))


@login_required
@permission_required("publishing.change_campaign", raise_exception=True)
@require_POST
def campaign_weather_hold(request, pk):
    """Hold every post of the campaign, or those on the ticked channels, until the weather comes."""
    campaign = get_object_or_404(Campaign, pk=pk)
    form = CampaignWeatherHoldForm(request.POST, campaign=campaign)
    if not form.is_valid():
        messages.error(request, " ".join(f"{form[name].label}: {' '.join(errors)}"
                                         for name, errors in form.errors.items()))
        return redirect(campaign)
    try:
        hold = campaign_hold_for_weather(campaign=campaign, by=request.user, **form.cleaned_data)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"The campaign's posts wait for {hold}.")
    return redirect(campaign)
