"""Back-office pages: content, versions and workflow; campaigns and their jobs; and the public page of
published content. The calendar is in calendar_pages."""


from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from aicmo_site.roles import holds_admin_role
from aicmo_site.stuck import stuck_before
from aicmo_site.transitions import available_action_names
from crm.models import CityWeather
from publishing import selectors, services
from publishing.checks import content_checks
from publishing.choices import JobStatus, WeatherCondition
from publishing.filters import CampaignFilterSet, ContentFilterSet
from publishing.formatters import formatter_for
from publishing.forms import (
    ContentForm,
    GenerateVersionsForm,
    MarkPublishedForm,
    NoteForm,
    VersionForm,
    WeatherHoldForm,
)
from publishing.markdown import render_markdown
from publishing.media_picker import picker_context
from publishing.models import AnalysisStatus, BlockingCheck, Campaign, ChannelVersion, Content, PublishingJob
from publishing.services.weather_holds import job_hold_for_weather, job_weather_hold_lift

PAGE_SIZE = 25
CONTENT_ACTIONS = {
    "submit": services.content_submit,
    "approve": services.content_approve,
    "request_changes": services.content_request_changes,
    "archive": services.content_archive,
}
CAMPAIGN_ACTIONS = {
    "activate": services.campaign_activate,
    "pause": services.campaign_pause,
    "resume": services.campaign_resume,
    "cancel": services.campaign_cancel,
}
JOB_ORDERINGS = {"scheduled_at": "Scheduled first", "-scheduled_at": "Scheduled last",
                 "-published_at": "Published last", "status": "Status", "-attempts": "Most attempts"}
CONTENT_DONE = {"submit": "Submitted for review.", "approve": "Approved.",
                "request_changes": "Changes requested: the author has your note.", "archive": "Archived."}
# Actions that cannot be undone ask for a confirmation first.
DESTRUCTIVE = {"archive", "cancel"}


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def filter_data(query, **fixed) -> QueryDict:
    """FilterSet data from the address: a QueryDict, since a multiple-choice filter (status) reads a
    list and refuses a plain string (which silently dropped the filter); `fixed` values come last so
    the address cannot override them (a ?campaign= listing another campaign's jobs)."""
    data = QueryDict(mutable=True)
    data.update(query)
    for key, value in fixed.items():
        data[key] = str(value)
    return data


def _confirm(request, *, what: str, action: str, back: str, fields=(), button: str = ""):
    """A page asking "are you sure?" that posts the same form again with confirmed=yes; `fields` are
    extra (name, value) pairs to post back (the channels chosen, say)."""
    return render(request, "publishing/confirm.html", {
        "what": what, "action": action, "back": back, "note": request.POST.get("note", ""), "fields": fields,
        "button": button or f"Yes, {action}"})


@login_required
@permission_required("publishing.view_content", raise_exception=True)
def content_list(request):
    filterset = ContentFilterSet(request.GET or None, queryset=selectors.content_list())
    return render(request, "publishing/content_list.html", {
        "filter": filterset, "page": _page(request, filterset.qs),
        "review_count": selectors.review_queue().count(),
    })


@login_required
@permission_required("publishing.view_content", raise_exception=True)
def content_detail(request, pk):
    try:
        content = selectors.content_detail(pk=pk)
    except Content.DoesNotExist:
        raise Http404
    versions = [(v, services.version_preview(v)) for v in content.versions.all()]
    return render(request, "publishing/content_detail.html", {
        "content": content, "body_html": render_markdown(content.body), "versions": versions,
        "events": content.events.all(), "actions": services.available_actions(content, request.user),
        "generate_form": GenerateVersionsForm(initial={"kinds": [v.kind for v, _ in versions]}),
        "note_form": NoteForm(),
        "analyses": services.content_analyses_current(content),
        "checks": content_checks(content),
        "blocking": set(BlockingCheck.objects.values_list("key", flat=True)),
        "may_choose_blocking": holds_admin_role(request.user),
    })


@login_required
@permission_required("publishing.change_content", raise_exception=True)
@require_POST
def content_check_links(request, pk):
    content = get_object_or_404(Content, pk=pk)
    services.content_links_check_request(content=content)
    messages.success(request, "Checking the links; reload in a moment to see the results.")
    return redirect(f"{content.get_absolute_url()}#checks")


@login_required
@permission_required("publishing.change_content", raise_exception=True)
@require_POST
def content_analyse(request, pk):
    content = get_object_or_404(Content, pk=pk)
    rows = services.content_analysis_request(content=content, by=request.user)
    waiting = sum(row.status in (AnalysisStatus.PENDING, AnalysisStatus.RUNNING) for row in rows)
    if waiting:
        messages.success(request, f"Analysis started for {waiting} text{'s' if waiting > 1 else ''}; "
                                  "reload in a moment to see the results.")
    else:
        messages.info(request, "Nothing has changed since the last analysis: the results below are current.")
    return redirect(f"{content.get_absolute_url()}#analysis")


@login_required
@permission_required("publishing.change_content", raise_exception=True)
def content_edit(request, pk=None):
    content = get_object_or_404(Content, pk=pk) if pk else None
    initial = ContentForm.initial_for(content) if content else {}
    form = ContentForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        fields = dict(form.cleaned_data)
        fields["media"] = fields.pop("assets")
        try:
            if content is None:
                content = services.content_create(by=request.user, **fields)
            else:
                content = services.content_update(content=content, by=request.user, **fields)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, "Content saved.")
            return redirect(content)
    return render(request, "publishing/content_form.html", {
        "form": form, "content": content, "body_html": render_markdown(form["body"].value() or ""),
        "picker": picker_context(picked=form["assets"].value())})


@login_required
@permission_required("publishing.change_content", raise_exception=True)
@require_POST
def content_preview(request):
    """The body as readers will see it, rendered by the same Markdown renderer as the public page, for
    the editor to swap in beside the text while the author types."""
    return render(request, "publishing/_markdown_preview.html",
                  {"body_html": render_markdown(request.POST.get("body", ""))})


@login_required
@require_POST
def content_action(request, pk):
    content = get_object_or_404(Content, pk=pk)
    action = request.POST.get("action", "")
    if action not in services.available_actions(content, request.user) or action not in CONTENT_ACTIONS:
        messages.error(request, "That action is not available for this content.")
        return redirect(content)
    if action in DESTRUCTIVE and request.POST.get("confirmed") != "yes":
        return _confirm(request, what=f"Archive “{content.title}”?", action=action, back=content.get_absolute_url())
    note = request.POST.get("note", "")
    kwargs = {"note": note}
    try:
        CONTENT_ACTIONS[action](content=content, by=request.user, **kwargs)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, CONTENT_DONE.get(action, "Done."))
    return redirect(content)


@login_required
@permission_required("publishing.change_content", raise_exception=True)
@require_POST
def versions_generate_view(request, pk):
    content = get_object_or_404(Content, pk=pk)
    form = GenerateVersionsForm(request.POST)
    if form.is_valid():
        kinds, force = form.cleaned_data["kinds"], form.cleaned_data["force"]
        edited = []
        if force and request.POST.get("confirmed") != "yes":
            edited = sorted(content.versions.filter(kind__in=kinds, edited_by_hand=True).values_list("kind", flat=True))
        if edited:
            # Replacing a hand-edited version loses that writing for good: ask first, naming them.
            return _confirm(request, what=f"Replace the hand edits of the {', '.join(edited)} version"
                                          f"{'s' if len(edited) > 1 else ''} of “{content.title}”?",
                            action="", back=content.get_absolute_url(), button="Yes, replace them",
                            fields=[("kinds", kind) for kind in kinds] + [("force", "on")])
        try:
            services.versions_generate(content=content, kinds=kinds, force=force)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, "Channel versions generated.")
    else:
        messages.error(request, "Choose at least one channel.")
    return redirect(content)


@login_required
@permission_required("publishing.change_channelversion", raise_exception=True)
def version_edit(request, pk):
    version = get_object_or_404(ChannelVersion.objects.select_related("content"), pk=pk)
    form = VersionForm(request.POST or None, initial=VersionForm.initial_for(version),
                       typed_mentions=formatter_for(version.kind).typed_mentions)
    if request.method == "POST" and form.is_valid():
        try:
            fields = dict(form.cleaned_data)
            fields["media"] = fields.pop("assets")
            services.version_update(version=version, by=request.user, **fields)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, f"The {version.kind} version was saved.")
            return redirect(version.content)
    return render(request, "publishing/version_form.html", {
        "form": form, "version": version, "preview": services.version_preview(version),
        "picker": picker_context(picked=form["assets"].value()),
    })


@login_required
@permission_required("publishing.view_campaign", raise_exception=True)
def campaign_list(request):
    filterset = CampaignFilterSet(request.GET or None, queryset=selectors.campaign_list())
    return render(request, "publishing/campaign_list.html", {"filter": filterset,
                                                             "page": _page(request, filterset.qs)})


@login_required
@permission_required("publishing.view_campaign", raise_exception=True)
def campaign_detail(request, pk):
    campaign = get_object_or_404(Campaign.objects.select_related("email", "weather_hold__city"), pk=pk)
    jobs = selectors.job_list(filters=filter_data(request.GET, campaign=campaign.pk))
    channels = campaign.channels.all()
    before = stuck_before()
    stuck = selectors.campaigns_stuck(before=before).filter(pk=campaign.pk).first()
    # Asked only of a stuck campaign, to mark its rows: the page costs one query more only then.
    stuck_job_ids = set(selectors.jobs_stuck(before=before).filter(campaign=campaign).values_list("pk", flat=True)
                        ) if stuck else set()
    return render(request, "publishing/campaign_detail.html", {
        "stuck_since": stuck.progressed_at if stuck else None, "stuck_jobs": stuck.stuck_jobs if stuck else 0,
        "stuck_job_ids": stuck_job_ids,
        "campaign": campaign, "page": _page(request, jobs), "metrics": selectors.campaign_metrics(campaign=campaign),
        "progress": selectors.campaign_job_progress(campaign=campaign), "job_orderings": JOB_ORDERINGS,
        "events": campaign.events.select_related("by")[:20], "job_statuses": JobStatus.choices,
        "contents": campaign.campaign_contents.select_related("content"), "channels": channels,
        "actions": available_action_names(campaign, request.user),
        "weather_cities": CityWeather.objects.filter(found=True).order_by("city", "country").only("city", "country"),
        "weather_conditions": WeatherCondition.choices,
    })


@login_required
@permission_required("publishing.change_campaign", raise_exception=True)
@require_POST
def campaign_action(request, pk):
    campaign = get_object_or_404(Campaign, pk=pk)
    action = request.POST.get("action", "")
    if action not in CAMPAIGN_ACTIONS or action not in available_action_names(campaign, request.user):
        messages.error(request, "That action is not available for this campaign.")
        return redirect(campaign)
    if action in DESTRUCTIVE and request.POST.get("confirmed") != "yes":
        return _confirm(request, what=f"Cancel the campaign “{campaign.name}”? Posts not yet out are dropped.",
                        action=action, back=campaign.get_absolute_url())
    try:
        CAMPAIGN_ACTIONS[action](campaign=campaign, by=request.user)
    except DomainError as error:
        problems = error.extra.get("problems") or {}
        messages.error(request, error.message)
        for where, errors in problems.items():
            messages.error(request, f"{where}: {' '.join(errors)}")
    else:
        messages.success(request, f"Campaign {action}d." if action.endswith("e") else f"Campaign {action}ed.")
    return redirect(campaign)


@login_required
@permission_required("publishing.change_publishingjob", raise_exception=True)
@require_POST
def job_action(request, pk):
    job = get_object_or_404(PublishingJob.objects.select_related("campaign"), pk=pk)
    action = request.POST.get("action", "")
    try:
        if action == "retry":
            services.job_retry(job=job, by=request.user)
        elif action == "cancel":
            if request.POST.get("confirmed") != "yes":
                return _confirm(request, what=f"Cancel the post of “{job.content}” on {job.channel}?",
                                action=action, back=job.campaign.get_absolute_url())
            services.job_cancel(job=job, by=request.user)
        elif action == "hold_for_weather":
            form = WeatherHoldForm(request.POST)
            if not form.is_valid():
                messages.error(request, " ".join(f"{form[name].label}: {' '.join(errors)}"
                                                 for name, errors in form.errors.items()))
                return redirect(job.campaign)
            job_hold_for_weather(job=job, by=request.user, **form.cleaned_data)
        elif action == "lift_weather_hold":
            job_weather_hold_lift(job=job, by=request.user)
        elif action == "mark_published":
            form = MarkPublishedForm(request.POST)
            if not form.is_valid():
                messages.error(request, "Give the address of the post.")
                return redirect(job.campaign)
            services.job_mark_published(job=job, by=request.user, url=form.cleaned_data["url"])
        else:
            messages.error(request, "Unknown action.")
            return redirect(job.campaign)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, "Job updated.")
    return redirect(job.campaign)


def public_content(request, slug):
    try:
        content = selectors.public_content(slug=slug)
    except Content.DoesNotExist:
        raise Http404
    return render(request, "publishing/public_content.html", {"content": content,
                                                              "body_html": render_markdown(content.body)})
