"""The analytics API: thin views that validate the query, call a report, and let the renderer
answer JSON or, with ?format=csv, the report's table as CSV."""

from functools import partial

import django_filters
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from aicmo_site.api.filters import FilterSet
from aicmo_site.api.pagination import StandardPagination
from aicmo_site.api.runs import BackgroundRunSerializer
from analytics import conf, reports
from analytics.api import serializers as s
from analytics.api.cached_answers import CachedAnswerView
from analytics.api.renderers import CSVRenderer
from analytics.models import ContactScore
from analytics.reports.anomalies import PERIODS, anomalies_report, marks_unusual, trend_unusual
from analytics.reports.cache import fold_state_of
from analytics.reports.campaigns import campaigns_live
from analytics.reports.overview import overview_shown
from analytics.reports.repositories import release_markers, repository_trend, trend_with_releases
from analytics.reports.scores import KnownCountPaginator, scores_count
from analytics.services import contact_score_one
from analytics.services.runs import rollup_rebuild_start, scores_recompute_start
from crm.models import Contact
from publishing.best_times import channel_best_times
from publishing.email.best_times import email_best_times
from publishing.models import Channel

RENDERERS = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
ROW_KEYS = ("sent", "delivered", "opens", "unique_opens", "clicks", "replies", "conversions", "revenue",
            "impressions", "engagements", "spend", "reach", "open_rate", "click_through_rate", "engagement_rate",
            "conversion_rate", "cost_per_click", "cost_per_acquisition", "cost_per_contact", "return_on_ad_spend",
            "roi")


def _query(serializer_class, request):
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReportView(APIView):
    renderer_classes = RENDERERS
    csv_filename = "report"


class OverviewView(CachedAnswerView, ReportView):
    csv_filename = "overview"
    reads_checkpoint = True  # the lag behind it

    @extend_schema(parameters=[s.PeriodSerializer], responses=dict)
    def get(self, request):
        period = _query(s.PeriodSerializer, request)
        return self.cached_answer(
            request, overview_shown,
            lambda checkpoint, shown: reports.overview(start=period["start"], end=period["end"],
                                                       live=(checkpoint, *shown)),
            **period)

    def csv_table(self, data):
        return ["metric", "value", "previous", "change"], [
            [k["metric"], k["value"], k["previous"], k["change"]] for k in data["kpis"]
        ]


class AnomaliesView(ReportView):
    """Days (or, with ?resolution=hour, hours) when a watched figure broke from the same weekday (or hour of
    the week) of the previous weeks."""

    csv_filename = "unusual-days"

    @extend_schema(parameters=[s.AnomalyPeriodSerializer], responses=dict)
    def get(self, request):
        period = _query(s.AnomalyPeriodSerializer, request)
        return Response(anomalies_report(start=period["start"], end=period["end"],
                                         period=PERIODS[period["resolution"]]))

    def csv_table(self, data):
        return ["day", "series", "direction", "value", "usual", "change", "robust_units", "likely_causes"], [
            [a["day"], a["series"], a["direction"], a["value"], a["expected"], a["change"], a["units"],
             "; ".join(a["likely_causes"])] for a in data["anomalies"]
        ]


class BestTimesView(ReportView):
    """A channel account's hour-of-week map; with ?format=csv its 7x24 cells, one a row."""

    csv_filename = "best-times"

    @extend_schema(responses=dict)
    def get(self, request, channel_id: int):
        return Response(channel_best_times(get_object_or_404(Channel, pk=channel_id)))

    def csv_table(self, data):
        return best_times_csv(data)


class EmailBestTimesView(ReportView):
    """Email's hour-of-week map: opens and clicks by the hour each email was sent; ?format=csv as above."""

    csv_filename = "email-best-times"

    @extend_schema(responses=dict)
    def get(self, request):
        return Response(email_best_times())

    def csv_table(self, data):
        return best_times_csv(data)


def best_times_csv(data: dict):
    return ["day", "hour", "score", "confidence", "posts"], [
            [day["day"], f"{cell['hour']:02d}:00", cell["score"], cell["confidence"], cell["posts"]]
            for day in data["grid"] for cell in day["hours"]]


class CampaignReportView(CachedAnswerView, ReportView):
    csv_filename = "campaign"

    @extend_schema(parameters=[s.CampaignReportQuerySerializer], responses=dict)
    def get(self, request, campaign_id: int):
        period = _query(s.CampaignReportQuerySerializer, request)
        read = {}

        def live(checkpoint):
            read.update(campaigns_live([campaign_id]))
            campaign = read.get(campaign_id)
            if campaign is None:
                raise NotFound("No such campaign.")
            # An A/B test's figures are read live from the sends: such a report is computed every time.
            return None if campaign.has_ab_test else (campaign.name, campaign.status, campaign.budget)

        def live_and_checkpoint():
            shown = live(None)
            return fold_state_of(vars(read[campaign_id])), shown

        return self.cached_answer(
            request, live, lambda checkpoint, shown: reports.campaign_report(
                campaign_id, start=period.get("start"), end=period.get("end"), campaigns=read),
            live_and_checkpoint=live_and_checkpoint, campaign_id=campaign_id, **period)

    def csv_table(self, data):
        rows = [["(all channels)", *[data["totals"].get(k) for k in ROW_KEYS]]]
        rows += [[c["channel"], *[c.get(k) for k in ROW_KEYS]] for c in data["channels"]]
        return ["channel", *ROW_KEYS], rows


class CampaignCompareView(ReportView):
    csv_filename = "campaigns"

    @extend_schema(parameters=[s.CompareQuerySerializer], responses=dict, operation_id="analytics_campaigns_compare")
    def get(self, request):
        query = _query(s.CompareQuerySerializer, request)
        return Response({"campaigns": reports.campaign_reports(query["ids"], start=query.get("start"),
                                                               end=query.get("end"))})

    def csv_table(self, data):
        return ["campaign", *ROW_KEYS], [
            [r["campaign"]["name"], *[r["totals"].get(k) for k in ROW_KEYS]] for r in data["campaigns"]
        ]


class ChannelRankingView(CachedAnswerView, ReportView):
    csv_filename = "channels"

    @extend_schema(parameters=[s.ChannelRankingQuerySerializer], responses=dict)
    def get(self, request):
        query = _query(s.ChannelRankingQuerySerializer, request)
        query.setdefault("min_sample", conf.minimum_sample())
        return self.cached_answer(
            request, lambda checkpoint: (),
            lambda checkpoint, shown: reports.channel_ranking(
                metric=query["metric"], start=query["start"], end=query["end"], minimum_sample=query["min_sample"]),
            **query)

    def csv_table(self, data):
        rows = [[r["rank"], r["channel"], r["sample"], *[r.get(k) for k in ROW_KEYS]] for r in data["ranked"]]
        rows += [["below minimum sample", r["channel"], r["sample"], *[r.get(k) for k in ROW_KEYS]]
                 for r in data["below_minimum_sample"]]
        return ["rank", "channel", "sample", *ROW_KEYS], rows


class TrendView(CachedAnswerView, ReportView):
    csv_filename = "trend"

    @extend_schema(parameters=[s.TrendQuerySerializer], responses=dict)
    def get(self, request):
        query = _query(s.TrendQuerySerializer, request)

        def markers(checkpoint=None):
            return release_markers(start=query["start"], end=query["end"], interval=query["interval"])

        def compute(checkpoint, shown):
            return trend_unusual(trend_with_releases(**query, markers=shown))

        if marks_unusual(**query):  # unusual points depend on the day they are asked and on live records
            return Response(compute(None, markers()))
        return self.cached_answer(request, markers, compute, **query)

    def csv_table(self, data):
        return ["period", data["metric"], "releases", "unusual", "usual", "change", "likely_causes"], [
            [p["period"], p["value"], "; ".join(p["releases"]), *_unusual_cells(p["unusual"])] for p in data["points"]]


def _unusual_cells(unusual: dict | None) -> list:
    if unusual is None:
        return ["", "", "", ""]
    return [unusual["direction"], unusual["expected"], unusual["change"], "; ".join(unusual["likely_causes"])]


class RepositoryTrendView(ReportView):
    """A watched GitHub repository's figure by day, with its releases on the days they were published."""

    csv_filename = "github-repository"

    @extend_schema(parameters=[s.RepositoryTrendQuerySerializer], responses=dict)
    def get(self, request):
        query = _query(s.RepositoryTrendQuerySerializer, request)
        return Response(repository_trend(repository=query["repository"], metric=query["metric"],
                                         start=query["start"], end=query["end"]))

    def csv_table(self, data):
        return ["day", data["metric"], "releases"], [
            [p["period"], p["value"], "; ".join(p["releases"])] for p in data["points"]]


class CohortView(ReportView):
    csv_filename = "cohorts"

    @extend_schema(parameters=[s.CohortQuerySerializer], responses=dict)
    def get(self, request):
        query = _query(s.CohortQuerySerializer, request)
        return Response(reports.cohorts(by=query["by"], months=query["months"]))

    def csv_table(self, data):
        months = range(data["months"])
        header = ["cohort", "size", *[f"month {m} engaged" for m in months], *[f"month {m} converted" for m in months]]
        return header, [
            [r["cohort"], r["size"], *[c["engaged"] for c in r["months"]], *[c["converted"] for c in r["months"]]]
            for r in data["rows"]
        ]


class AttributionView(ReportView):
    csv_filename = "attribution"

    @extend_schema(parameters=[s.AttributionQuerySerializer], responses=dict)
    def get(self, request):
        query = _query(s.AttributionQuerySerializer, request)
        return Response(reports.attribution(
            model=query["model"], start=query["start"], end=query["end"],
            lookback_days=query.get("lookback_days"), half_life_days=query.get("half_life_days"),
        ))

    def csv_table(self, data):
        return ["campaign", "channel", "conversions", "revenue"], [
            [r["campaign"], r["channel"], r["conversions"], r["revenue"]] for r in data["rows"]
        ]


class ContactScoreFilterSet(FilterSet):
    tier = django_filters.MultipleChoiceFilter(
        choices=[(t, t) for t in ("high", "medium", "low", "inactive")])
    min_score = django_filters.NumberFilter(field_name="score", lookup_expr="gte")
    max_score = django_filters.NumberFilter(field_name="score", lookup_expr="lte")

    class Meta:
        model = ContactScore
        fields = ["tier"]


# Query parameters that narrow the scores list beyond its tiers: with any of them the list is counted.
_COUNTED_FILTERS = ("min_score", "max_score", "search")


class ContactScorePagination(StandardPagination):
    """Counts the list from the tier counts when only tiers filter it (see analytics.reports.scores)."""

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = type(self).django_paginator_class
        if not any(request.query_params.get(name) for name in _COUNTED_FILTERS):
            count = scores_count(tiers=request.query_params.getlist("tier"))
            self.django_paginator_class = partial(KnownCountPaginator, known_count=count)
        return super().paginate_queryset(queryset, request, view)


class ContactScoreListView(generics.ListAPIView):
    """Contacts by engagement score, highest first.

    The contacts of a page are read apart (prefetched): joined, a deep page joined every skipped score
    to its contact too (bench/NOTES.md)."""

    queryset = ContactScore.objects.prefetch_related("contact").order_by("-score", "contact_id")
    serializer_class = s.ContactScoreSerializer
    filterset_class = ContactScoreFilterSet
    pagination_class = ContactScorePagination
    search_fields = ["contact__email", "contact__first_name", "contact__last_name"]
    ordering_fields = ["score", "lifetime_value", "computed_at"]
    renderer_classes = RENDERERS
    csv_filename = "scores"

    def csv_table(self, data):
        rows = data["results"] if isinstance(data, dict) and "results" in data else data
        fields = ["contact", "email", "name", "score", "tier", "points", "lifetime_value", "computed_at"]
        return fields, [[row[f] for f in fields] for row in rows]


class ContactScoreRecomputeView(APIView):
    """Scores one contact now (the bulk scoring runs on a schedule). A write to the contact's score, so it
    asks the permission to change contacts, which Analysts and Approvers do not hold."""

    queryset = ContactScore.objects.all()
    action_permissions = {None: ["crm.change_contact"]}

    @extend_schema(request=None, responses=s.ContactScoreSerializer, operation_id="analytics_contact_score_recompute")
    def post(self, request, contact_id: int):
        contact = get_object_or_404(Contact, pk=contact_id)
        score = contact_score_one(contact_id=contact.pk)
        return Response(s.ContactScoreSerializer(score).data)


class RollupRebuildView(APIView):
    """Rebuilds every analytics roll-up from the events, on a worker; answers 202 with the run to follow.
    Administrators only (no model: writes are theirs): it empties and refills the reports' tables."""

    @extend_schema(request=None, responses={202: BackgroundRunSerializer})
    def post(self, request):
        run = rollup_rebuild_start(by=request.user)
        return Response(BackgroundRunSerializer(run, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)


class ScoresRecomputeView(APIView):
    """Recomputes every contact's score now, on a worker (it also runs on a schedule); answers 202 with
    the run to follow. A write to contacts' scores, so it asks the permission to change contacts."""

    queryset = ContactScore.objects.all()
    action_permissions = {None: ["crm.change_contact"]}

    @extend_schema(request=None, responses={202: BackgroundRunSerializer},
                   operation_id="analytics_scores_recompute_all")
    def post(self, request):
        run = scores_recompute_start(by=request.user)
        return Response(BackgroundRunSerializer(run, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)
