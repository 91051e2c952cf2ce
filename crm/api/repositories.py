"""Watched GitHub repositories: Admins add and remove them, every role reads their daily figures."""

from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response

from aicmo_site.api.fields import ModelSerializer, PrimaryKeyField
from aicmo_site.api.pagination import StandardPagination
from aicmo_site.api.runs import BackgroundRunSerializer
from aicmo_site.permissions import RolePermission
from aicmo_site.roles import holds_admin_role
from crm import services
from crm.models import RepositorySnapshot, WatchedRepository
from crm.repository_selectors import LATEST, watched_repositories
from crm.services.stargazers import stargazers_backfill_start
from gateways.capabilities import Capability
from gateways.models import ProviderAccount


class AdminWrites(RolePermission):
    """Which repositories are read spends the GitHub token's quota: an Admin's call."""

    def has_permission(self, request, view) -> bool:
        return super().has_permission(request, view) and (
            request.method in SAFE_METHODS or holds_admin_role(request.user))


class RepositorySnapshotSerializer(ModelSerializer):
    class Meta:
        model = RepositorySnapshot
        fields = LATEST
        read_only_fields = fields


class WatchedRepositorySerializer(ModelSerializer):
    account = PrimaryKeyField(queryset=ProviderAccount.objects.filter(capability=Capability.REPOSITORY_SIGNALS),
                              required=False, allow_null=True,
                              help_text="The GitHub account whose token reads it; null: the first enabled one")
    latest = serializers.SerializerMethodField(help_text="The last day's figures; null before the first read. "
                                                         "views and clones are null when the token may not read "
                                                         "them (traffic_available false).")

    class Meta:
        model = WatchedRepository
        fields = ("id", "full_name", "account", "created_at", "polled_at", "not_before", "last_error", "latest")
        read_only_fields = ("created_at", "polled_at", "not_before", "last_error")
        extra_kwargs = {"full_name": {"validators": []}}

    @extend_schema_field(RepositorySnapshotSerializer(allow_null=True))
    def get_latest(self, repository) -> dict | None:
        if getattr(repository, "latest_day", None) is None:
            return None
        return {name: getattr(repository, f"latest_{name}") for name in LATEST}


class WatchedRepositoryViewSet(mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """GitHub repositories read every hour into one snapshot a day. Search: full_name."""

    serializer_class = WatchedRepositorySerializer
    permission_classes = [AdminWrites]
    search_fields = ("full_name",)
    ordering_fields = ("full_name", "polled_at")

    def get_queryset(self):
        return watched_repositories()

    def perform_create(self, serializer):
        serializer.instance = services.repository_watch(full_name=serializer.validated_data["full_name"],
                                                        account=serializer.validated_data.get("account"),
                                                        by=self.request.user)

    def perform_destroy(self, instance):
        services.repository_unwatch(repository=instance)

    @extend_schema(responses=RepositorySnapshotSerializer(many=True))
    @action(detail=True, methods=["get"], pagination_class=StandardPagination)
    def snapshots(self, request, pk=None):
        """The repository's daily figures, newest first."""
        page = self.paginate_queryset(self.get_object().snapshots.order_by("-day"))
        return self.get_paginated_response(RepositorySnapshotSerializer(page, many=True).data)

    @extend_schema(request=None, responses={202: BackgroundRunSerializer})
    @action(detail=True, methods=["post"], url_path="backfill-stargazers")
    def backfill_stargazers(self, request, pk=None):
        """Queues a run that pages through the stargazers and matches them to contacts by public email."""
        run = stargazers_backfill_start(repository=self.get_object(), by=request.user)
        return Response(BackgroundRunSerializer(run, context={"request": request}).data,
                        status=status.HTTP_202_ACCEPTED)

    @extend_schema(request=None, responses={202: WatchedRepositorySerializer})
    @action(detail=True, methods=["post"])
    def poll(self, request, pk=None):
        """Queues a read of the repository now rather than at the next hourly run (a repository waiting for
        GitHub's rate limit stays waiting)."""
        repository = self.get_object()
        services.repository_poll_soon(repository=repository)
        return Response(self.get_serializer(repository).data, status=status.HTTP_202_ACCEPTED)
