"""Back-office dashboards. Each page validates its pickers (kept in the URL), calls the same
report as the API, and shows a chart, its table and a CSV link."""

import datetime as dt
from typing import NamedTuple

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import urlencode

from analytics import reports
from analytics.api import serializers as s
from analytics.models import ContactScore, ContactScoreHistory
from analytics.reports.anomalies import HOUR, anomalies_report, trend_unusual
from analytics.reports.measures import METRICS
from analytics.reports.repositories import REPOSITORY_METRICS, repository_trend, trend_with_releases
from analytics.reports.scores import KnownCountPaginator, scores_count
from analytics.services.rollups import rollup_lag
from crm.models import Contact, WatchedRepository
from publishing.best_times import channel_best_times, with_shades
from publishing.email.best_times import EMAIL, email_best_times
from publishing.models import Campaign, Channel


class BestTimesSubject(NamedTuple):
    pk: str
    name: str
    unit: str  # what one counted item is: a post, an email
    json_url: str
    csv_url: str


TIERS = ("high", "medium", "low", "inactive")
TABS = [
    ("analytics:overview", "Overview"), ("analytics:compare", "Compare campaigns"), ("analytics:channels", "Channels"),
    ("analytics:trends", "Trends"), ("analytics:cohorts", "Cohorts"), ("analytics:attribution", "Attribution"),
    ("analytics:scores", "Top contacts"), ("analytics:best-times", "Best time to post"),
    ("analytics:github", "GitHub"),
]


REPORT_KEYS = ("reach", "sent", "delivered", "unique_opens", "open_rate", "clicks", "click_through_rate",
               "engagement_rate", "impressions", "conversions", "conversion_rate", "revenue", "spend", "cost_per_click",
               "cost_per_acquisition", "cost_per_contact", "return_on_ad_spend", "roi")


def _series(labels, values, label: str, kind: str = "line") -> dict:
    """What static/analytics/charts.js draws: labels and one or more series of numbers."""
    numbers = [None if v is None else float(v) for v in values]
    return {"type": kind, "labels": [str(x) for x in labels], "series": [{"label": label, "values": numbers}]}


def _page(request, template: str, serializer_class, build, *, api: str, chart=None, extra=None):
    serializer = serializer_class(data=request.GET)
    context = {"tabs": [(reverse(name), label, request.resolver_match.view_name == name) for name, label in TABS],
               "query": request.GET, "errors": None, "report": None, **(extra or {})}
    if serializer.is_valid():
        context["report"] = build(serializer.validated_data)
        context["period"] = serializer.validated_data
        if chart:
            context["chart"] = chart(context["report"])
    else:
        context["errors"] = serializer.errors
    context["csv_url"] = f"{api}?{urlencode({**request.GET.dict(), 'format': 'csv'})}"
    return render(request, f"analytics/{template}", context)


@login_required
def overview(request):
    def build(q):
        result = reports.overview(start=q["start"], end=q["end"])
        result["trend"] = reports.trend(metric="clicks", interval="day", start=q["start"], end=q["end"])
        result["unusual_days"] = anomalies_report(start=max(q["start"], q["end"] - dt.timedelta(days=366)),
                                                  end=q["end"])["anomalies"]
        result["unusual_hours"] = anomalies_report(start=max(q["start"], q["end"] - dt.timedelta(days=6)),
                                                   end=q["end"], period=HOUR)["anomalies"]
        return result

    return _page(request, "overview.html", s.PeriodSerializer, build, api="/api/analytics/overview/",
                 chart=lambda r: _series([p["period"] for p in r["trend"]["points"]],
                                         [p["value"] for p in r["trend"]["points"]], "Clicks"),
                 extra={"metrics": METRICS})


@login_required
def campaign(request, campaign_id: int):
    chosen = get_object_or_404(Campaign, pk=campaign_id)
    return _page(request, "campaign.html", s.CampaignReportQuerySerializer,
                 lambda q: reports.campaign_report(chosen.pk, start=q.get("start"), end=q.get("end")),
                 api=f"/api/analytics/campaigns/{chosen.pk}/",
                 chart=lambda r: _series([c["channel"] for c in r["channels"]], [c["clicks"] for c in r["channels"]],
                                         "Clicks", "bar"),
                 extra={"campaign": chosen, "metrics": METRICS, "report_keys": REPORT_KEYS,
                        "rollup_lag": rollup_lag()})


COMPARE_CHART_KEYS = ("clicks", "conversions")


def _compare_chart(report: dict) -> dict:
    names = [r["campaign"]["name"] for r in report["campaigns"]]
    return {"type": "bar", "labels": names, "series": [
        {"label": METRICS[key].label, "values": [float(r["totals"][key] or 0) for r in report["campaigns"]]}
        for key in COMPARE_CHART_KEYS
    ]}


@login_required
def compare(request):
    """Campaigns side by side; the picker sends one `ids` per chosen campaign, the API takes them joined."""
    chosen = [part for value in request.GET.getlist("ids") for part in value.split(",") if part.strip()]
    data = request.GET.copy()
    if chosen:
        data["ids"] = ",".join(chosen)
    request.GET = data
    choices = Campaign.objects.order_by("-created_at", "-id").only("id", "name")[:200]
    if not chosen:
        tabs = [(reverse(name), label, name == "analytics:compare") for name, label in TABS]
        return render(request, "analytics/compare.html", {"tabs": tabs, "choices": choices, "chosen": set(),
                                                          "query": request.GET, "nothing_chosen": True})
    return _page(request, "compare.html", s.CompareQuerySerializer,
                 lambda q: {"campaigns": reports.campaign_reports(q["ids"], start=q.get("start"), end=q.get("end"))},
                 api="/api/analytics/campaigns/", chart=_compare_chart,
                 extra={"metrics": METRICS, "report_keys": REPORT_KEYS, "choices": choices,
                        "chosen": {int(c) for c in chosen if c.strip().isdigit()}})


@login_required
def contact_score(request, contact_id: int):
    """A contact's engagement score over time (crm links here; crm itself never imports analytics)."""
    contact = get_object_or_404(Contact, pk=contact_id)
    current = ContactScore.objects.filter(contact=contact).first()
    history = list(ContactScoreHistory.objects.filter(contact=contact).order_by("day").values("day", "score", "tier"))
    tabs = [(reverse(name), label, False) for name, label in TABS]
    chart = _series([h["day"] for h in history], [h["score"] for h in history], "Score")
    return render(request, "analytics/contact.html",
                  {"tabs": tabs, "contact": contact, "current": current, "history": history, "chart": chart})


@login_required
def channels(request):
    return _page(request, "channels.html", s.ChannelRankingQuerySerializer,
                 lambda q: reports.channel_ranking(metric=q["metric"], start=q["start"], end=q["end"],
                                                   minimum_sample=q.get("min_sample")),
                 api="/api/analytics/channels/",
                 chart=lambda r: _series([c["channel"] for c in r["ranked"]], [c[r["metric"]] for c in r["ranked"]],
                                         METRICS[r["metric"]].label, "bar"),
                 extra={"metrics": METRICS})


@login_required
def trends(request):
    """A metric over time; by day or by hour, the unusual days or hours of a watched metric are marked on
    the chart and in the table (analytics.reports.anomalies)."""
    data = request.GET.copy()
    data.setdefault("metric", "clicks")
    request.GET = data

    def build(q):
        return trend_unusual(trend_with_releases(metric=q["metric"], interval=q["interval"], start=q["start"],
                                                 end=q["end"]))

    def chart(report):
        drawn = _series([p["period"] for p in report["points"]], [p["value"] for p in report["points"]],
                        report["label"])
        if any(p["unusual"] for p in report["points"]):
            drawn["series"].append({"label": f"Unusual {report['interval']}", "values": [
                float(p["value"]) if p["unusual"] and p["value"] is not None else None for p in report["points"]]})
        return _with_release_markers(drawn, report["points"])

    return _page(request, "trends.html", s.TrendQuerySerializer, build, api="/api/analytics/trends/", chart=chart,
                 extra={"metrics": METRICS})


def _with_release_markers(drawn: dict, points: list[dict]) -> dict:
    """Releases as markers sitting on the line where they were published (the table names them)."""
    if any(p["releases"] for p in points):
        drawn["series"].append({"label": "Release", "markers": True, "values": [
            (float(p["value"]) if p["value"] is not None else 0.0) if p["releases"] else None for p in points]})
    return drawn


@login_required
def github(request):
    """A watched GitHub repository's daily figure, its releases marked."""
    repositories = list(WatchedRepository.objects.order_by("full_name").values_list("pk", "full_name"))
    data = request.GET.copy()
    if repositories:
        data.setdefault("repository", str(repositories[0][0]))
    request.GET = data

    def build(q):
        if not repositories:
            return None  # the page says how to add one, not that a field is missing
        return repository_trend(repository=q["repository"], metric=q["metric"], start=q["start"], end=q["end"])

    def chart(report):
        if report is None:
            return None
        drawn = _series([p["period"] for p in report["points"]], [p["value"] for p in report["points"]],
                        report["label"])
        return _with_release_markers(drawn, report["points"])

    serializer = s.RepositoryTrendQuerySerializer if repositories else s.PeriodSerializer
    return _page(request, "github.html", serializer, build, api="/api/analytics/github/",
                 chart=chart, extra={"repositories": repositories, "metrics": REPOSITORY_METRICS})


@login_required
def cohorts(request):
    return _page(request, "cohorts.html", s.CohortQuerySerializer,
                 lambda q: reports.cohorts(by=q["by"], months=q["months"]), api="/api/analytics/cohorts/",
                 extra={"cohort_measures": [("engaged", "engaged"), ("converted", "converted")]})


@login_required
def attribution(request):
    return _page(request, "attribution.html", s.AttributionQuerySerializer,
                 lambda q: reports.attribution(model=q["model"], start=q["start"], end=q["end"],
                                               lookback_days=q.get("lookback_days"),
                                               half_life_days=q.get("half_life_days")),
                 api="/api/analytics/attribution/",
                 chart=lambda r: _series([f"{row['campaign']} · {row['channel'] or '-'}" for row in r["rows"]],
                                         [row["conversions"] for row in r["rows"]], "Conversions", "bar"),
                 extra={"models": reports.ATTRIBUTION_MODELS})


@login_required
def scores(request):
    tier = request.GET.get("tier", "")
    rows = ContactScore.objects.prefetch_related("contact").order_by("-score", "contact_id")
    if tier in TIERS:
        rows = rows.filter(tier=tier)
    page = KnownCountPaginator(rows, 50, known_count=scores_count(tiers=[tier] if tier in TIERS else [])).get_page(
        request.GET.get("page"))
    tabs = [(reverse(name), label, name == "analytics:scores") for name, label in TABS]
    csv_url = f"/api/analytics/scores/?{urlencode({'format': 'csv', **({'tier': tier} if tier else {})})}"
    return render(request, "analytics/scores.html", {"tabs": tabs, "page": page, "tier": tier, "csv_url": csv_url})


@login_required
def best_times(request):
    """The hour-of-week heat map of one channel account, or of email: when its posts (emails) drew the most
    engagement."""
    choices = [BestTimesSubject(str(c.pk), c.name, "post", f"/api/channels/{c.pk}/best-times/",
                                reverse("analytics-best-times", args=[c.pk]))
               for c in Channel.objects.order_by("name", "pk").only("pk", "name")]
    choices.append(BestTimesSubject(EMAIL, "Email (every sending account)", "email",
                                    reverse("analytics-email-best-times"), reverse("analytics-email-best-times")))
    asked = request.GET.get("channel")
    chosen = next((c for c in choices if c.pk == asked), None if asked else choices[0])
    result = None
    if chosen:
        result = with_shades(email_best_times() if chosen.pk == EMAIL else channel_best_times(int(chosen.pk)))
    return render(request, "analytics/best_times.html", {
        "tabs": [(reverse(name), label, name == "analytics:best-times") for name, label in TABS],
        "channels": choices, "chosen": chosen, "result": result, "hours": range(24),
        "error": "That channel does not exist." if asked and not chosen else "",
    })
