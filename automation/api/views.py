from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from aicmo_site.transitions import Via
from automation import selectors, services
from automation.api.serializers import (
    ContactInputSerializer,
    ContactsInputSerializer,
    JourneyInputSerializer,
    JourneySerializer,
    JourneyStatsSerializer,
    MigratedSerializer,
    StepsInputSerializer,
    TaskSerializer,
)
from automation.models import Journey, Task
from crm.models import Contact

CHANGE = ["automation.change_journey"]


class JourneyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Journeys: create with their steps, check steps, activate, pause, archive, see where contacts
    are, enrol and remove contacts."""

    serializer_class = JourneySerializer
    queryset = Journey.objects.none()
    filterset_fields = ("status",)
    search_fields = ("name",)
    action_permissions = {"check": CHANGE, "activate": CHANGE, "pause": CHANGE, "archive": CHANGE,
                          "enrol": CHANGE, "remove": CHANGE, "new_version": CHANGE, "migrate": CHANGE,
                          "stats": ["automation.view_journey"]}

    def get_queryset(self):
        return selectors.journey_list()

    @extend_schema(request=JourneyInputSerializer, responses={201: JourneySerializer})
    def create(self, request):
        given = JourneyInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        journey = services.journey_create(by=request.user, **given.validated_data)
        return Response(self._out(journey), status=status.HTTP_201_CREATED)

    @extend_schema(request=StepsInputSerializer, responses={200: None},
                   description="400 with a field error per faulty step (steps[2].next...) when the graph is not valid.")
    @action(detail=False, methods=["post"], url_path="validate")
    def check(self, request):
        given = StepsInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        services.journey_check(steps=given.validated_data["steps"])
        return Response({"valid": True})

    def _out(self, journey):
        return JourneySerializer(selectors.journey_list().get(pk=journey.pk), context={"request": self.request}).data

    def _move(self, service):
        journey = service(journey=self.get_object(), by=self.request.user, via=Via.API)
        return Response(self._out(journey))

    @extend_schema(request=None, responses=JourneySerializer)
    @action(detail=True, methods=["post"])
    def activate(self, request, pk=None):
        return self._move(services.journey_activate)

    @extend_schema(request=None, responses=JourneySerializer)
    @action(detail=True, methods=["post"])
    def pause(self, request, pk=None):
        return self._move(services.journey_pause)

    @extend_schema(request=None, responses=JourneySerializer)
    @action(detail=True, methods=["post"])
    def archive(self, request, pk=None):
        return self._move(services.journey_archive)

    @extend_schema(responses=JourneyStatsSerializer)
    @action(detail=True, methods=["get"])
    def stats(self, request, pk=None):
        return Response(JourneyStatsSerializer(selectors.journey_stats(self.get_object())).data)

    @extend_schema(request=ContactsInputSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def enrol(self, request, pk=None):
        given = ContactsInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        ids = given.validated_data["contact_ids"]
        enrolled = services.journey_enrol(journey=self.get_object(), contacts=Contact.objects.filter(pk__in=ids),
                                          source="api")
        return Response({"enrolled": enrolled, "skipped": len(set(ids)) - enrolled})

    @extend_schema(request=ContactInputSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def remove(self, request, pk=None):
        given = ContactInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        contact = get_object_or_404(Contact, pk=given.validated_data["contact_id"])
        removed = services.journey_remove_contact(journey=self.get_object(), contact=contact, by=request.user,
                                                  via=Via.API)
        return Response({"removed": removed})

    @extend_schema(request=StepsInputSerializer, responses=JourneySerializer,
                   description="A live journey's steps changed: checked as a graph (400 with a field error per "
                               "faulty step), saved as the next version, which new entrants start on.")
    @action(detail=True, methods=["post"], url_path="new-version")
    def new_version(self, request, pk=None):
        given = StepsInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        journey = services.journey_version_create(journey=self.get_object(), steps=given.validated_data["steps"],
                                                  by=request.user)
        return Response(self._out(journey))

    @extend_schema(request=None, responses=MigratedSerializer,
                   description="Moves contacts on older versions to the current version's step of the same key "
                               "and kind; the others stay on their version.")
    @action(detail=True, methods=["post"])
    def migrate(self, request, pk=None):
        return Response({"migrated": services.journey_version_migrate(journey=self.get_object())})

class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """My tasks (those journeys' task steps gave me): open ones by default, `?done=true` for the finished;
    mark one done."""

    serializer_class = TaskSerializer
    queryset = Task.objects.none()
    search_fields = ("title", "contact__email")
    action_permissions = {"done": ["automation.change_task"]}

    def get_queryset(self):
        done = self.request.query_params.get("done", "false").lower()
        return selectors.tasks_of(self.request.user, done={"true": True, "false": False}.get(done))

    @extend_schema(request=None, responses=TaskSerializer, operation_id="tasks_mark_done")
    @action(detail=True, methods=["post"], url_path="done")
    def done(self, request, pk=None):
        task = get_object_or_404(selectors.tasks_of(request.user, done=None), pk=pk)
        return Response(TaskSerializer(services.task_mark_done(task=task, by=request.user)).data)
