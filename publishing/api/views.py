"""Thin viewsets: reads go through selectors and FilterSets; every change is a POST calling a service."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from aicmo_site.errors import DomainError
from publishing import selectors, services
from publishing.api import serializers as s
from publishing.best_times import channel_best_times
from publishing.checks import content_checks
from publishing.filters import CampaignFilterSet, ChannelFilterSet, ContentFilterSet, JobFilterSet
from publishing.models import ChannelVersion
from publishing.services.weather_holds import campaign_hold_for_weather, job_hold_for_weather, job_weather_hold_lift

_LIST_OF_OBJECTS = {"type": "array", "items": {"type": "object", "additionalProperties": True}}


def _ok(serializer_class, instance, **kwargs) -> Response:
    return Response(serializer_class(instance, **kwargs).data)


class ContentViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Content. Filters: status, kind, author, q (title, summary, body), ordering."""

    serializer_class = s.ContentSerializer
    filterset_class = ContentFilterSet
    search_fields = ["title", "summary"]
    ordering_fields = ["title", "updated_at", "created_at", "status"]
    action_permissions = {
        "approve": ["publishing.approve_content"],
        "request_changes": ["publishing.approve_content"],
        "submit": ["publishing.change_content"],
        "archive": ["publishing.change_content"],
        "versions": ["publishing.view_content"],
        "generate_versions": ["publishing.change_content"],
        "preview": ["publishing.view_content"],
        "history": ["publishing.view_content"],
        "analyse": ["publishing.change_content"],
        "analysis": ["publishing.view_content"],
        "checks": ["publishing.view_content"],
    }

    def get_queryset(self):
        return selectors.content_list()

    def perform_create(self, serializer):
        serializer.instance = services.content_create(by=self.request.user, **serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.content_update(content=serializer.instance, by=self.request.user,
                                                      **serializer.validated_data)

    def _step(self, request, service, input_class=s.NoteSerializer):
        data = input_class(data=request.data)
        data.is_valid(raise_exception=True)
        content = service(content=self.get_object(), by=request.user, **data.validated_data)
        return Response(self.get_serializer(content).data)

    @extend_schema(request=s.NoteSerializer, responses=s.ContentSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._step(request, services.content_submit)

    @extend_schema(request=s.NoteSerializer, responses=s.ContentSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._step(request, services.content_approve)

    @extend_schema(request=s.RequiredNoteSerializer, responses=s.ContentSerializer)
    @action(detail=True, methods=["post"], url_path="request-changes")
    def request_changes(self, request, pk=None):
        return self._step(request, services.content_request_changes, s.RequiredNoteSerializer)

    @extend_schema(request=s.NoteSerializer, responses=s.ContentSerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._step(request, services.content_archive)

    @extend_schema(responses=s.ChannelVersionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def versions(self, request, pk=None):
        versions = ChannelVersion.objects.filter(content=self.get_object()).prefetch_related("media")
        return _ok(s.ChannelVersionSerializer, versions, many=True)

    @extend_schema(request=s.GenerateVersionsSerializer, responses={201: s.ChannelVersionSerializer(many=True)})
    @versions.mapping.post
    def generate_versions(self, request, pk=None):
        data = s.GenerateVersionsSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        versions = services.versions_generate(content=self.get_object(), **data.validated_data)
        return Response(s.ChannelVersionSerializer(versions, many=True).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={200: OpenApiResponse(response=_LIST_OF_OBJECTS, description=(
        "Per version: id, kind, label, markdown and text as the channel shows them, length and errors"))})
    @action(detail=True, methods=["get"])
    def preview(self, request, pk=None):
        """Each version as its channel will show it, with its length as the channel counts and what is wrong."""
        versions = ChannelVersion.objects.filter(content=self.get_object()).prefetch_related("media")
        return Response([{"id": v.pk, **services.version_preview(v)} for v in versions])

    @extend_schema(request=None, responses={202: s.ContentAnalysisSerializer(many=True)})
    @action(detail=True, methods=["post"])
    def analyse(self, request, pk=None):
        """Queue the analysis of the content and each channel version; a text analysed before is not
        analysed again. AI when a text-generation provider is ready, else the local analysis (not AI)."""
        rows = services.content_analysis_request(content=self.get_object(), by=request.user)
        return Response(s.ContentAnalysisSerializer(rows, many=True).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=s.CurrentAnalysisSerializer(many=True))
    @action(detail=True, methods=["get"])
    def analysis(self, request, pk=None):
        current = services.content_analyses_current(self.get_object())
        return _ok(s.CurrentAnalysisSerializer, [{"kind": target.kind, "label": target.label, "analysis": row}
                                                 for target, row in current], many=True)

    @extend_schema(responses=s.CheckResultSerializer(many=True))
    @action(detail=True, methods=["get"])
    def checks(self, request, pk=None):
        """The automated checks before approval, each pass, warn or fail with its reason."""
        content = self.get_object()
        return Response([result.as_dict() for result in content_checks(content)])

    @extend_schema(responses=s.ContentEventSerializer(many=True))
    @action(detail=True, methods=["get"])
    def history(self, request, pk=None):
        return _ok(s.ContentEventSerializer, self.get_object().events.select_related("by"), many=True)


class ChannelVersionViewSet(mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Channel versions, editable by hand (editing approved content sends it back to review)."""

    serializer_class = s.ChannelVersionSerializer
    filterset_fields = ["content", "kind"]
    http_method_names = ["get", "patch", "post", "head", "options"]

    def get_queryset(self):
        return ChannelVersion.objects.prefetch_related("media").order_by("content_id", "kind")

    action_permissions = {"attach_media": ["publishing.change_channelversion"]}

    def perform_update(self, serializer):
        serializer.instance = services.version_update(version=serializer.instance, by=self.request.user,
                                                      **serializer.validated_data)

    @extend_schema(request=s.AttachMediaSerializer, responses=s.ChannelVersionSerializer)
    @action(detail=True, methods=["post"], url_path="media")
    def attach_media(self, request, pk=None):
        """Attach approved assets whose usage rights are valid; each use is recorded in the media library."""
        data = s.AttachMediaSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        version = services.version_attach_media(version=self.get_object(), by=request.user, **data.validated_data)
        return _ok(s.ChannelVersionSerializer, version)


class ChannelViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    serializer_class = s.ChannelSerializer
    filterset_class = ChannelFilterSet

    action_permissions = {"best_times": ["publishing.view_channel"]}

    def get_queryset(self):
        return selectors.channel_list()

    @extend_schema(responses=OpenApiResponse(description="The 7x24 hour-of-week map (Monday first, team's time "
                                                         "zone): each hour's smoothed engagement per post, "
                                                         "posts seen and confidence; overall confidence."))
    @action(detail=True, methods=["get"], url_path="best-times")
    def best_times(self, request, pk=None):
        return Response(channel_best_times(self.get_object()))

    def perform_create(self, serializer):
        serializer.instance = services.channel_create(**serializer.validated_data)

    def perform_update(self, serializer):
        serializer.instance = services.channel_update(channel=serializer.instance, **serializer.validated_data)


class CampaignViewSet(mixins.CreateModelMixin, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Campaigns. Filters: status, q, ordering. Only a draft can be changed; then activate."""

    serializer_class = s.CampaignSerializer
    filterset_class = CampaignFilterSet
    action_permissions = {name: ["publishing.change_campaign"]
                          for name in ("activate", "pause", "resume", "cancel", "hold_for_weather")}
    action_permissions["metrics"] = ["publishing.view_campaign"]

    def get_queryset(self):
        # The email joined: whether "add an email" is still open is one of each campaign's available actions.
        return selectors.campaign_list().select_related("email").prefetch_related(
            "channels", "campaign_contents__channels")

    @staticmethod
    def _relations(data: dict) -> dict:
        if "campaign_contents" in data:
            data["contents"] = [(row["content"], row.get("publish_at"), row.get("channels"))
                                for row in data.pop("campaign_contents")]
        return data

    def perform_create(self, serializer):
        data = self._relations(dict(serializer.validated_data))
        campaign = services.campaign_create(by=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=campaign.pk)  # with the counts the list shows

    def perform_update(self, serializer):
        data = self._relations(dict(serializer.validated_data))
        campaign = services.campaign_update(campaign=serializer.instance, by=self.request.user, **data)
        serializer.instance = self.get_queryset().get(pk=campaign.pk)

    def _step(self, request, service):
        data = s.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        kwargs = data.validated_data if service is not services.campaign_activate else {}
        service(campaign=self.get_object(), by=request.user, **kwargs)
        return Response(self.get_serializer(self.get_queryset().get(pk=self.kwargs["pk"])).data)

    @extend_schema(request=None, responses=s.CampaignSerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._step(request, services.campaign_activate)

    @extend_schema(request=s.NoteSerializer, responses=s.CampaignSerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._step(request, services.campaign_pause)

    @extend_schema(request=s.NoteSerializer, responses=s.CampaignSerializer)
    @action(detail=True, methods=["post"])
    def resume(self, request, pk=None):
        return self._step(request, services.campaign_resume)

    @extend_schema(request=s.NoteSerializer, responses=s.CampaignSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._step(request, services.campaign_cancel)

    @extend_schema(request=s.CampaignWeatherHoldSerializer, responses=s.CampaignWeatherHoldSerializer)
    @action(detail=True, methods=["post"], url_path="hold-for-weather")
    def hold_for_weather(self, request, pk=None):
        """Holds every post of the campaign (or those on `channels`) until the weather in a city meets a
        condition: a draft's posts from activation, a live campaign's posts not yet started at once. Pausing
        the campaign pauses them; resuming sends them back to waiting. Posting again replaces the hold."""
        data = s.CampaignWeatherHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        hold = campaign_hold_for_weather(campaign=self.get_object(), by=request.user, **data.validated_data)
        return Response(s.CampaignWeatherHoldSerializer(hold).data)

    @extend_schema(responses={200: OpenApiResponse(response=_LIST_OF_OBJECTS, description=(
        "Per channel: channel, channel_id and the totals of impressions, clicks, engagements, conversions, spend"))})
    @action(detail=True, methods=["get"])
    def metrics(self, request, pk=None):
        """Totals per channel of the newest snapshot of each job."""
        return Response(selectors.campaign_metrics(campaign=self.get_object()))


class JobViewSet(viewsets.ReadOnlyModelViewSet):
    """Publishing jobs. Filters: status, channel, campaign, content, date_from, date_to, q, ordering."""

    serializer_class = s.JobSerializer
    filterset_class = JobFilterSet
    action_permissions = {name: ["publishing.change_publishingjob"]
                          for name in ("retry", "cancel", "mark_published", "reschedule", "hold_for_weather",
                                       "lift_weather_hold")}
    action_permissions["record_metrics"] = ["publishing.add_metricsnapshot"]
    action_permissions["import_metrics"] = ["publishing.add_metricsnapshot"]

    def get_queryset(self):
        return selectors.job_list()

    @extend_schema(request=s.NoteSerializer, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def retry(self, request, pk=None):
        data = s.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_retry(job=self.get_object(), by=request.user, **data.validated_data)
        return Response(self.get_serializer(job).data)

    @extend_schema(request=s.NoteSerializer, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        data = s.NoteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_cancel(job=self.get_object(), by=request.user, **data.validated_data)
        return Response(self.get_serializer(job).data)

    @extend_schema(request=s.RescheduleSerializer, responses=s.JobSerializer)
    @action(detail=True, methods=["post"])
    def reschedule(self, request, pk=None):
        """Moves a post that has not started publishing to another day, at the same time of day; 409 for
        one already publishing, published, failed or cancelled."""
        data = s.RescheduleSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_reschedule(job=self.get_object(), by=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)

    @extend_schema(request=s.WeatherHoldSerializer, responses=s.JobSerializer)
    @action(detail=True, methods=["post"], url_path="hold-for-weather")
    def hold_for_weather(self, request, pk=None):
        """Holds a post that has not started publishing until the weather in a city meets a condition; it
        goes out when it does (checked every few minutes) and fails with the reason at `give_up_at`."""
        data = s.WeatherHoldSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = job_hold_for_weather(job=self.get_object(), by=request.user, **data.validated_data).job
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)

    @extend_schema(request=None, responses=s.JobSerializer)
    @action(detail=True, methods=["post"], url_path="lift-weather-hold")
    def lift_weather_hold(self, request, pk=None):
        """Stops a post waiting for the weather: it goes out at its scheduled time (now if that has passed);
        409 for a post that is not waiting."""
        job = job_weather_hold_lift(job=self.get_object(), by=request.user)
        return Response(self.get_serializer(self.get_queryset().get(pk=job.pk)).data)

    @extend_schema(request=s.MarkPublishedSerializer, responses=s.JobSerializer)
    @action(detail=True, methods=["post"], url_path="mark-published")
    def mark_published(self, request, pk=None):
        data = s.MarkPublishedSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        job = services.job_mark_published(job=self.get_object(), by=request.user, **data.validated_data)
        return Response(self.get_serializer(job).data)

    @extend_schema(request=s.MetricSnapshotSerializer, responses={201: s.MetricSnapshotSerializer})
    @action(detail=True, methods=["post"], url_path="metrics")
    def record_metrics(self, request, pk=None):
        data = s.MetricSnapshotSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        snapshot = services.metric_snapshot_record(job=self.get_object(), by=request.user, **data.validated_data)
        return Response(s.MetricSnapshotSerializer(snapshot).data, status=status.HTTP_201_CREATED)

    @extend_schema(request={"multipart/form-data": s.MetricsCsvSerializer})
    @action(detail=False, methods=["post"], url_path="import-metrics",
            parser_classes=[MultiPartParser, FormParser, JSONParser])
    def import_metrics(self, request):
        """CSV columns: job_id, taken_at (ISO 8601), impressions, clicks, engagements, conversions, spend."""
        data = s.MetricsCsvSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            text = data.validated_data["file"].read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DomainError("The file is not UTF-8 text.", code="invalid_csv")
        return Response(services.metrics_import_csv(text=text, by=request.user))
