"""/api/runs/: every background run, its status, progress and result; what long work answers with."""

import django_filters
from rest_framework import mixins, serializers, viewsets

from aicmo_site.api.fields import ModelSerializer
from aicmo_site.api.filters import FilterSet
from aicmo_site.models import BackgroundRun, RunKind, RunStatus
from aicmo_site.run_selectors import runs_list


class BackgroundRunFilterSet(FilterSet):
    kind = django_filters.ChoiceFilter(choices=RunKind.choices, label="Kind")
    status = django_filters.ChoiceFilter(choices=RunStatus.choices, label="Status")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Only the runs I asked for")
    q = django_filters.CharFilter(field_name="label", lookup_expr="icontains", label="Search")

    class Meta:
        model = BackgroundRun
        fields = ["kind", "status", "mine", "q"]

    def filter_mine(self, queryset, name, value):
        user = getattr(self.request, "user", None)
        if not value or user is None or not user.is_authenticated:
            return queryset
        return queryset.filter(requested_by=user)


class BackgroundRunSerializer(ModelSerializer):
    progress = serializers.IntegerField(read_only=True, allow_null=True,
                                        help_text="Percent done; null while the total is unknown")
    requested_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    url = serializers.SerializerMethodField(help_text="This run in the API")
    page_url = serializers.SerializerMethodField(help_text="This run's page in the back office")

    class Meta:
        model = BackgroundRun
        fields = ["id", "kind", "label", "status", "progress", "done", "total", "result", "error", "link",
                  "url", "page_url", "requested_by", "created_at", "started_at", "finished_at", "progressed_at"]
        read_only_fields = fields

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path

    def get_url(self, run) -> str:
        return self._absolute(f"/api/runs/{run.pk}/")

    def get_page_url(self, run) -> str:
        return self._absolute(f"/runs/{run.pk}/")


class BackgroundRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Every role may follow the background work (aicmo_site.view_backgroundrun); a run is started by the
    feature it belongs to."""

    queryset = runs_list()
    serializer_class = BackgroundRunSerializer
    filterset_class = BackgroundRunFilterSet
    ordering_fields = ["created_at", "finished_at"]
