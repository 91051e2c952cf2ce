"""The content calendar (a day, a week or a month of posts) and moving a post to another day."""

from datetime import date, datetime, time, timedelta

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import Count, Max, Min, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from aicmo_site.errors import DomainError
from publishing import selectors, services
from publishing.choices import RESCHEDULABLE_JOB, JobStatus
from publishing.models import Campaign, PublishingJob
from publishing.views import filter_data

CALENDAR_VIEWS = (("day", "Day"), ("week", "Week"), ("month", "Month"))


def _period(view: str, value: date) -> tuple[date, list[date]]:
    """The first day of the period holding `value` and the days shown: one day, the seven days of its
    week from Monday, or the whole weeks that cover its month."""
    if view == "day":
        return value, [value]
    if view == "week":
        first = value - timedelta(days=value.weekday())
        return first, [first + timedelta(days=n) for n in range(7)]
    first = value.replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    start = first - timedelta(days=first.weekday())
    return first, [start + timedelta(days=n) for n in range((last - start).days + 7 - last.weekday())]


def _step(view: str, first: date, forward: bool) -> date:
    if view == "month":
        return (first + timedelta(days=32)).replace(day=1) if forward else (first - timedelta(days=1)).replace(day=1)
    step = timedelta(days=1 if view == "day" else 7)
    return first + step if forward else first - step


def _bounds(days: list[date]) -> tuple[datetime, datetime]:
    tz = timezone.get_current_timezone()
    return (datetime.combine(days[0], time.min, tzinfo=tz),
            datetime.combine(days[-1] + timedelta(days=1), time.min, tzinfo=tz))


@login_required
@permission_required("publishing.view_publishingjob", raise_exception=True)
def calendar(request):
    """Jobs by day of one day, week or month, grouped per channel, with their status. Opened without
    a date, it shows the current period, or the first one ahead with posts (else the last one behind)
    when the current one is empty, so nobody pages through empty weeks to find the plan."""
    view = request.GET.get("view") if request.GET.get("view") in ("day", "month") else "week"
    asked = request.GET.get("date") or request.GET.get("week") or request.GET.get("month")
    try:
        value = date.fromisoformat(asked if asked and len(asked) != 7 else f"{asked}-01") if asked else None
    except ValueError:
        value = None
    first, days = _period(view, value or timezone.localdate())
    start, end = _bounds(days)
    filters = {key: value for key, value in request.GET.items() if key in ("channel", "campaign", "status")}
    jobs = selectors.job_list(filters=filter_data(filters))
    moved_from = None
    if value is None:
        # One query tells whether the period has posts and, if not, the nearest day that has.
        near = jobs.order_by().aggregate(inside=Count("pk", filter=Q(scheduled_at__gte=start, scheduled_at__lt=end)),
                                         ahead=Min("scheduled_at", filter=Q(scheduled_at__gte=end)),
                                         behind=Max("scheduled_at", filter=Q(scheduled_at__lt=start)))
        nearest = near["ahead"] or near["behind"]
        if not near["inside"] and nearest:
            moved_from = first
            first, days = _period(view, timezone.localtime(nearest).date())
            start, end = _bounds(days)
    by_day = {day: {} for day in days}
    for job in jobs.filter(scheduled_at__gte=start, scheduled_at__lt=end).order_by("scheduled_at", "pk"):
        by_day[timezone.localtime(job.scheduled_at).date()].setdefault(job.channel, []).append(job)
    last = days[-1] if view != "month" else (_step(view, first, True) - timedelta(days=1))
    period_key = {"day": "date", "week": "week", "month": "month"}[view]
    return render(request, "publishing/calendar.html", {
        "view": view, "view_choices": CALENDAR_VIEWS, "days": [(day, by_day[day]) for day in days],
        "first": first, "last": last, "period_key": period_key, "moved_from": moved_from,
        "back": request.get_full_path(),
        "previous": _step(view, first, False), "next": _step(view, first, True), "channels": selectors.channel_list(),
        "campaigns": Campaign.objects.order_by("name").only("pk", "name"), "movable": RESCHEDULABLE_JOB,
        "statuses": JobStatus.choices, "filters": filters, "today": timezone.localdate(),
        "can_move": request.user.has_perm("publishing.change_publishingjob"),
        # Moving to another period or view keeps the channel, campaign and status chosen.
        "filter_query": urlencode({key: value for key, value in filters.items() if value}),
    })


@login_required
@permission_required("publishing.change_publishingjob", raise_exception=True)
@require_POST
def job_reschedule(request, pk):
    """Both ways of moving a post land here: the "Move to" form and a drag onto another day (which
    fills in and sends that same form)."""
    job = get_object_or_404(PublishingJob.objects.select_related("content", "channel"), pk=pk)
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(back, allowed_hosts={request.get_host()},
                                           require_https=request.is_secure()):
        back = reverse("publishing:calendar")
    try:
        day = date.fromisoformat(request.POST.get("day", ""))
    except ValueError:
        messages.error(request, "Choose the day to move the post to.")
        return redirect(back)
    try:
        services.job_reschedule(job=job, day=day, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, f"“{job.content}” on {job.channel} moved to {day:%a %-d %b %Y}.")
    return redirect(back)
